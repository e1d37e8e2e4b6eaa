package dev.bytestreams3.service.actioncache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionCacheGrpc.ActionCacheBlockingStub;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.InProcessCache;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ActionCache service through a real stub over the in-process transport. */
class ActionCacheServiceTest {

  @TempDir Path dir;
  private InProcessCache cache;
  private ActionCacheBlockingStub ac;

  private void start(String... flags) throws Exception {
    cache = InProcessCache.start(dir.resolve("store"), flags);
    ac = ActionCacheGrpc.newBlockingStub(cache.channel());
  }

  @AfterEach
  void stop() {
    if (cache != null) {
      cache.close();
    }
  }

  private static Digest digest(byte[] data) {
    try {
      return Digest.newBuilder()
          .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
          .setSizeBytes(data.length)
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void putBlobs(String instance, byte[]... blobs) {
    BatchUpdateBlobsRequest.Builder b = BatchUpdateBlobsRequest.newBuilder().setInstanceName(instance);
    for (byte[] data : blobs) {
      b.addRequests(
          BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(data)).setData(ByteString.copyFrom(data)));
    }
    ContentAddressableStorageGrpc.newBlockingStub(cache.channel()).batchUpdateBlobs(b.build());
  }

  private ActionResult update(String instance, Digest action, ActionResult result) {
    return ac.updateActionResult(
        UpdateActionResultRequest.newBuilder()
            .setInstanceName(instance)
            .setActionDigest(action)
            .setActionResult(result)
            .build());
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(messagePart);
            });
  }

  @Test
  void update_thenGet_returnsTheResult_inlinesWhatWasAskedWithinTheLimit() throws Exception {
    start("--inline-output-limit-bytes=100");
    byte[] out = text("the output file");
    byte[] stdout = text("stdout text");
    byte[] big = new byte[500];
    putBlobs("main", out, stdout, big);
    Digest action = digest(text("action 1"));
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("out/a.txt").setDigest(digest(out)))
            .addOutputFiles(OutputFile.newBuilder().setPath("out/big.bin").setDigest(digest(big)))
            .setStdoutDigest(digest(stdout))
            .setExitCode(0)
            .build();
    assertThat(update("main", action, result)).isEqualTo(result);

    GetActionResultRequest.Builder get =
        GetActionResultRequest.newBuilder().setInstanceName("main").setActionDigest(action);
    assertThat(ac.getActionResult(get.build())).isEqualTo(result);

    ActionResult inlined =
        ac.getActionResult(
            get.setInlineStdout(true).addInlineOutputFiles("out/a.txt").addInlineOutputFiles("out/big.bin").build());
    assertThat(inlined.getStdoutRaw().toStringUtf8()).isEqualTo("stdout text");
    assertThat(inlined.getOutputFiles(0).getContents().toStringUtf8()).isEqualTo("the output file");
    // 500 bytes do not fit in the 100-byte limit: left for the client to fetch by digest.
    assertThat(inlined.getOutputFiles(1).getContents().isEmpty()).isTrue();
    assertThat(inlined.getOutputFiles(1).getDigest()).isEqualTo(digest(big));
  }

  @Test
  void get_unknownAction_isNotFound_andInstancesAreSeparate() throws Exception {
    start();
    Digest action = digest(text("action 2"));
    assertStatus(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        Status.Code.NOT_FOUND, "no action result for sha256:" + action.getHash());
    update("a/b", action, ActionResult.newBuilder().setExitCode(3).build());
    assertThat(
            ac.getActionResult(
                    GetActionResultRequest.newBuilder().setInstanceName("a/b").setActionDigest(action).build())
                .getExitCode())
        .isEqualTo(3);
    assertStatus(
        () ->
            ac.getActionResult(
                GetActionResultRequest.newBuilder().setInstanceName("a/c").setActionDigest(action).build()),
        Status.Code.NOT_FOUND, "no action result");
  }

  @Test
  void get_resultWhoseOutputsLeftTheCas_isAMiss() throws Exception {
    start();
    byte[] present = text("present");
    byte[] gone = text("never uploaded");
    putBlobs("", present);
    Digest action = digest(text("action 3"));
    update(
        "", action,
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("p").setDigest(digest(present)))
            .addOutputFiles(OutputFile.newBuilder().setPath("g").setDigest(digest(gone)))
            .build());
    assertStatus(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        Status.Code.NOT_FOUND,
        "refers to 1 missing blob(s), first sha256:" + digest(gone).getHash());

    int before = cache.store().existenceRequests();
    putBlobs("", gone);
    assertThat(
            ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build())
                .getOutputFilesCount())
        .isEqualTo(2);
    // Both outputs are known present now (one found, one written here): no store request.
    assertThat(cache.store().existenceRequests()).isEqualTo(before);
  }

  @Test
  void get_outputDirectoryWhoseTreeFilesAreMissing_isAMiss() throws Exception {
    start();
    byte[] inTree = text("file inside an output directory");
    Tree tree =
        Tree.newBuilder()
            .setRoot(Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x").setDigest(digest(inTree))))
            .build();
    putBlobs("", tree.toByteArray());
    Digest action = digest(text("action 4"));
    update(
        "", action,
        ActionResult.newBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder().setPath("d").setTreeDigest(digest(tree.toByteArray())))
            .build());
    assertStatus(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        Status.Code.NOT_FOUND, digest(inTree).getHash());
    putBlobs("", inTree);
    assertThat(
            ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build())
                .getOutputDirectoriesCount())
        .isEqualTo(1);
  }

  @Test
  void get_outputDirectoryWhoseTreeIsLargerThanTheCheckReads_isAMiss_withoutReadingIt()
      throws Exception {
    start();
    byte[] bigTree = new byte[(16 << 20) + 1];
    new java.util.Random(9).nextBytes(bigTree);
    Digest treeDigest = digest(bigTree);
    cache
        .store()
        .put(
            new dev.bytestreams3.service.resource.KeyLayout()
                .casKey("", dev.bytestreams3.storage.Sha256.FUNCTION, treeDigest.getHash()),
            java.nio.ByteBuffer.wrap(bigTree))
        .get(30, java.util.concurrent.TimeUnit.SECONDS);
    Digest action = digest(text("action with a big tree"));
    update(
        "", action,
        ActionResult.newBuilder()
            .addOutputDirectories(OutputDirectory.newBuilder().setPath("big").setTreeDigest(treeDigest))
            .build());
    assertStatus(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        Status.Code.NOT_FOUND,
        "action result for sha256:" + action.getHash() + "/" + action.getSizeBytes()
            + " refers to the tree sha256:" + treeDigest.getHash()
            + "/16777217 of output directory 'big', larger than the 16777216 bytes read to check"
            + " the files it names");
  }

  @Test
  void update_readOnly_isPermissionDenied_andBadInputIsInvalid() throws Exception {
    start("--action-cache-read-only=true");
    Digest action = digest(text("action 5"));
    assertStatus(
        () -> update("", action, ActionResult.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED, "the action cache is read-only");
    stop();
    start();
    assertStatus(
        () ->
            update(
                "", action,
                ActionResult.newBuilder()
                    .addOutputFiles(
                        OutputFile.newBuilder()
                            .setPath("bad")
                            .setDigest(Digest.newBuilder().setHash("abc").setSizeBytes(1)))
                    .build()),
        Status.Code.INVALID_ARGUMENT, "output file 'bad': digest hash 'abc'");
    assertStatus(
        () -> update("", Digest.newBuilder().setHash("12").build(), ActionResult.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "has a hash of 2 characters");
    assertStatus(
        () -> update("x/uploads", action, ActionResult.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "reserved word 'uploads'");
  }
}
