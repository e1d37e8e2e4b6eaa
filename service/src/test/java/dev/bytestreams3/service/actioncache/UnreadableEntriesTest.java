package dev.bytestreams3.service.actioncache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionCacheGrpc.ActionCacheBlockingStub;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.InProcessCache;
import dev.bytestreams3.storage.BlobKey;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stored action result, or an output directory's Tree, that does not parse is a cache miss
 * (NOT_FOUND), so that the client runs the action again instead of failing the build.
 */
class UnreadableEntriesTest {

  /** Not a protobuf message: a field tag with wire type 7, which no message uses. */
  private static final byte[] GARBAGE = {(byte) 0x0f, (byte) 0xff, (byte) 0xff};

  @TempDir Path dir;

  private InProcessCache cache;
  private ActionCacheBlockingStub ac;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir);
    ac = ActionCacheGrpc.newBlockingStub(cache.channel());
  }

  @AfterEach
  void stop() {
    cache.close();
  }

  private static Digest digest(byte[] data) throws Exception {
    return Digest.newBuilder()
        .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
        .setSizeBytes(data.length)
        .build();
  }

  @Test
  void getActionResult_storedResultDoesNotParse_isAMiss() throws Exception {
    Digest action = digest("unreadable action".getBytes(StandardCharsets.UTF_8));
    cache.store()
        .put(BlobKey.of("ac/sha256/" + action.getHash()), ByteBuffer.wrap(GARBAGE))
        .get(30, TimeUnit.SECONDS);

    assertMiss(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        "the stored action result for sha256:" + action.getHash());

    // The client runs the action and stores a good result over the bad one.
    ActionResult good = ActionResult.newBuilder().setExitCode(0).build();
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder().setActionDigest(action).setActionResult(good).build());
    assertThat(ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()))
        .isEqualTo(good);
  }

  @Test
  void getActionResult_outputTreeDoesNotParse_isAMiss() throws Exception {
    Digest notATree = digest(GARBAGE);
    ContentAddressableStorageGrpc.newBlockingStub(cache.channel())
        .batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(notATree)
                        .setData(ByteString.copyFrom(GARBAGE)))
                .build());
    Digest action = digest("action with a bad tree".getBytes(StandardCharsets.UTF_8));
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder()
            .setActionDigest(action)
            .setActionResult(
                ActionResult.newBuilder()
                    .addOutputDirectories(
                        OutputDirectory.newBuilder().setPath("out/dir").setTreeDigest(notATree)))
            .build());

    assertMiss(
        () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()),
        "refers to tree sha256:" + notATree.getHash() + "/" + GARBAGE.length
            + " of output directory 'out/dir', which is not a readable Tree");
  }

  private static void assertMiss(ThrowingCallable call, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription())
                  .contains(messagePart)
                  .doesNotContain("ac/sha256/")
                  .doesNotContain("Exception");
            });
  }
}
