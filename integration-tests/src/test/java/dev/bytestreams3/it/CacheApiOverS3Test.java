package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.github.luben.zstd.Zstd;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.storage.Blake3;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What Bazel 2.1 never calls, through plain gRPC stubs over a real socket to the server process on
 * the embedded S3 server: batch calls, zstd ByteStream reads and writes, BLAKE3 names, GetTree
 * paging, action-cache misses, and the status of each kind of bad input.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CacheApiOverS3Test {

  private static S3Server s3;
  private static ServerProcess server;
  private static ManagedChannel channel;
  private static ContentAddressableStorageBlockingStub cas;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    System.out.println("cache API tests: running against " + s3.description());
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=cache-api-" + UUID.randomUUID() + "/");
    args.add("--part-size-bytes=" + (5 * 1024 * 1024));
    args.add("--max-batch-total-size-bytes=1000000");
    server = ServerProcess.start(List.of("-Xmx512m"), args);
    channel = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
    cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static byte[] text(int n, long seed) {
    String[] words = {"alpha ", "beta ", "gamma ", "delta ", "cache ", "blob\n"};
    Random r = new Random(seed);
    StringBuilder b = new StringBuilder(n + 16);
    while (b.length() < n) {
      b.append(words[r.nextInt(words.length)]);
    }
    return b.substring(0, n).getBytes(StandardCharsets.US_ASCII);
  }

  private static Digest sha256(byte[] data) {
    try {
      return Digest.newBuilder()
          .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
          .setSizeBytes(data.length)
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Digest blake3(byte[] data) {
    var h = Blake3.FUNCTION.newHasher();
    h.update(ByteBuffer.wrap(data));
    return Digest.newBuilder().setHash(HexFormat.of().formatHex(h.digest())).setSizeBytes(data.length).build();
  }

  private static BatchUpdateBlobsRequest.Request plain(byte[] data) {
    return BatchUpdateBlobsRequest.Request.newBuilder()
        .setDigest(sha256(data))
        .setData(ByteString.copyFrom(data))
        .build();
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

  /** One Write of {@code payload} in 16 KiB messages, ending with finish_write. */
  private static WriteResponse write(String name, byte[] payload) throws Exception {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> out =
        ByteStreamGrpc.newStub(channel)
            .write(
                new StreamObserver<>() {
                  WriteResponse last;

                  @Override
                  public void onNext(WriteResponse v) {
                    last = v;
                  }

                  @Override
                  public void onError(Throwable t) {
                    result.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    result.complete(last);
                  }
                });
    int off = 0;
    do {
      int n = Math.min(16 * 1024, payload.length - off);
      out.onNext(
          WriteRequest.newBuilder()
              .setResourceName(off == 0 ? name : "")
              .setWriteOffset(off)
              .setData(ByteString.copyFrom(payload, off, n))
              .setFinishWrite(off + n == payload.length)
              .build());
      off += n;
    } while (off < payload.length);
    out.onCompleted();
    try {
      return result.get(2, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private static byte[] read(String name, long offset) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    ByteStreamGrpc.newBlockingStub(channel)
        .read(
            com.google.bytestream.ByteStreamProto.ReadRequest.newBuilder()
                .setResourceName(name)
                .setReadOffset(offset)
                .build())
        .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
    return out.toByteArray();
  }

  @Test
  void batchCalls_withZstd_perBlobStatuses() {
    byte[] a = text(200_000, 1);
    byte[] b = text(300_000, 2);
    byte[] never = text(10, 3);
    BatchUpdateBlobsResponse up =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .setInstanceName("it/batch")
                .addRequests(plain(a))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(b))
                        .setData(ByteString.copyFrom(Zstd.compress(b)))
                        .setCompressor(Compressor.Value.ZSTD))
                .addRequests(plain(never).toBuilder().setDigest(sha256(a)))
                .build());
    assertThat(up.getResponsesList())
        .extracting(r -> r.getStatus().getCode())
        .containsExactly(0, 0, Status.Code.INVALID_ARGUMENT.value());

    assertThat(
            cas.findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .setInstanceName("it/batch")
                        .addBlobDigests(sha256(a))
                        .addBlobDigests(sha256(b))
                        .addBlobDigests(sha256(never))
                        .build())
                .getMissingBlobDigestsList())
        .containsExactly(sha256(never));

    BatchReadBlobsResponse read =
        cas.batchReadBlobs(
            BatchReadBlobsRequest.newBuilder()
                .setInstanceName("it/batch")
                .addDigests(sha256(a))
                .addDigests(sha256(b))
                .addDigests(sha256(never))
                .addAcceptableCompressors(Compressor.Value.ZSTD)
                .build());
    assertThat(Zstd.decompress(read.getResponses(0).getData().toByteArray(), a.length)).isEqualTo(a);
    assertThat(Zstd.decompress(read.getResponses(1).getData().toByteArray(), b.length)).isEqualTo(b);
    assertThat(read.getResponses(1).getCompressor()).isEqualTo(Compressor.Value.ZSTD);
    assertThat(read.getResponses(2).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
  }

  @Test
  void zstdByteStream_multipartBlob_writeAndRangedCompressedRead() throws Exception {
    byte[] data = text(12 * 1024 * 1024 + 3, 4);
    byte[] compressed = Zstd.compress(data, 3);
    String hash = sha256(data).getHash();
    WriteResponse w =
        write("it/zstd/uploads/" + UUID.randomUUID() + "/compressed-blobs/zstd/" + hash + "/" + data.length, compressed);
    assertThat(w.getCommittedSize()).isEqualTo(compressed.length);
    assertThat(read("it/zstd/blobs/" + hash + "/" + data.length, 0)).isEqualTo(data);
    byte[] tail = read("it/zstd/compressed-blobs/zstd/" + hash + "/" + data.length, 6_000_000);
    assertThat(Zstd.decompress(tail, data.length - 6_000_000))
        .isEqualTo(Arrays.copyOfRange(data, 6_000_000, data.length));
  }

  @Test
  void blake3ByteStream_multipartBlob_verifiedAndReadBack() throws Exception {
    byte[] data = text(11 * 1024 * 1024, 5);
    Digest d = blake3(data);
    WriteResponse w =
        write("it/b3/uploads/" + UUID.randomUUID() + "/blobs/blake3/" + d.getHash() + "/" + data.length, data);
    assertThat(w.getCommittedSize()).isEqualTo(data.length);
    assertThat(read("it/b3/blobs/blake3/" + d.getHash() + "/" + data.length, 7)).isEqualTo(Arrays.copyOfRange(data, 7, data.length));
    assertThat(
            cas.findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .setInstanceName("it/b3")
                        .setDigestFunction(DigestFunction.Value.BLAKE3)
                        .addBlobDigests(d)
                        .build())
                .getMissingBlobDigestsCount())
        .isZero();
    byte[] other = text(1000, 6);
    assertStatus(
        () -> write("it/b3/uploads/" + UUID.randomUUID() + "/blobs/blake3/" + blake3(text(1000, 7)).getHash() + "/1000", other),
        Status.Code.INVALID_ARGUMENT, "content hashes to blake3:" + blake3(other).getHash());
  }

  @Test
  void getTree_pages() {
    List<Digest> children = new ArrayList<>();
    Directory.Builder root = Directory.newBuilder();
    BatchUpdateBlobsRequest.Builder up = BatchUpdateBlobsRequest.newBuilder().setInstanceName("it/tree");
    for (int i = 0; i < 7; i++) {
      Directory child = Directory.newBuilder().addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder().setName("f" + i)).build();
      up.addRequests(plain(child.toByteArray()));
      children.add(sha256(child.toByteArray()));
      root.addDirectories(DirectoryNode.newBuilder().setName("d" + i).setDigest(sha256(child.toByteArray())));
    }
    up.addRequests(plain(root.build().toByteArray()));
    cas.batchUpdateBlobs(up.build());
    List<GetTreeResponse> pages = new ArrayList<>();
    cas.getTree(
            GetTreeRequest.newBuilder()
                .setInstanceName("it/tree")
                .setRootDigest(sha256(root.build().toByteArray()))
                .setPageSize(3)
                .build())
        .forEachRemaining(pages::add);
    assertThat(pages).extracting(GetTreeResponse::getDirectoriesCount).containsExactly(3, 3, 2);
    assertThat(pages.get(0).getDirectories(0)).isEqualTo(root.build());
    assertThat(pages.get(2).getNextPageToken()).isEmpty();
    assertStatus(
        () -> cas.getTree(GetTreeRequest.newBuilder().setInstanceName("it/tree").setRootDigest(sha256(text(5, 9))).build()).next(),
        Status.Code.NOT_FOUND, "root directory");
  }

  @Test
  void actionCache_hitNeedsItsOutputsInTheCas() {
    var ac = ActionCacheGrpc.newBlockingStub(channel);
    byte[] out = text(100, 10);
    Digest action = sha256(text(64, 11));
    ActionResult result =
        ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("o").setDigest(sha256(out))).build();
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder().setInstanceName("it/ac").setActionDigest(action).setActionResult(result).build());
    GetActionResultRequest get =
        GetActionResultRequest.newBuilder().setInstanceName("it/ac").setActionDigest(action).build();
    assertStatus(() -> ac.getActionResult(get), Status.Code.NOT_FOUND, "which the CAS no longer holds");
    cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().setInstanceName("it/ac").addRequests(plain(out)).build());
    assertThat(ac.getActionResult(get)).isEqualTo(result);
  }

  @Test
  void badInput_getsPreciseStatuses() {
    assertStatus(
        () -> cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(Digest.newBuilder().setHash("g00d").setSizeBytes(1)).build()),
        Status.Code.INVALID_ARGUMENT, "has a hash of 4 characters");
    assertStatus(
        () -> cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().setDigestFunction(DigestFunction.Value.MURMUR3).addBlobDigests(sha256(new byte[1])).build()),
        Status.Code.INVALID_ARGUMENT, "digest_function MURMUR3 is not supported");
    assertStatus(
        () -> cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().addRequests(plain(text(600_000, 12))).addRequests(plain(text(600_000, 13))).build()),
        Status.Code.INVALID_ARGUMENT, "BatchUpdateBlobs carries 1200000 blob bytes (expected: <= max_batch_total_size_bytes 1000000)");
    BatchUpdateBlobsResponse wrongSize =
        cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().addRequests(plain(text(10, 14)).toBuilder().setDigest(sha256(text(10, 14)).toBuilder().setSizeBytes(11))).build());
    assertThat(wrongSize.getResponses(0).getStatus().getMessage()).contains("has 10 bytes (expected: 11)");
    assertStatus(
        () -> read("it/compressed-blobs/lz4/" + sha256(new byte[1]).getHash() + "/1", 0),
        Status.Code.INVALID_ARGUMENT, "unknown compressor 'lz4'");
    assertStatus(
        () -> read("it/compressed-blobs/brotli/" + sha256(new byte[1]).getHash() + "/1", 0),
        Status.Code.INVALID_ARGUMENT, "compressor 'brotli' is not supported");
    assertStatus(
        () -> read("it/blobs/sha256tree/" + sha256(new byte[1]).getHash() + "/1", 0),
        Status.Code.INVALID_ARGUMENT, "names digest function 'sha256tree', which this server does not support");
    assertThat(
            CapabilitiesGrpc.newBlockingStub(channel)
                .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                .getCacheCapabilities()
                .getMaxBatchTotalSizeBytes())
        .isEqualTo(1_000_000);
  }
}
