package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import com.github.luben.zstd.Zstd;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server process at a 128 MiB heap that exits on OutOfMemoryError, as the image runs it, on
 * the embedded S3 server: sizes a client declares (a zstd entry declaring almost a gibibyte, a
 * zstd bomb, a stored 32 MiB blob named with size 1 by sixteen batch reads at once, the same blob
 * as a GetTree root) each get a precise status, and the process stays up and serves honest calls.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HostileSizesOverS3Test {

  private static final String INSTANCE = "hostile";

  private static S3Server s3;
  private static ServerProcess server;
  private static ManagedChannel channel;
  private static ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    System.out.println("hostile size tests: running against " + s3.description());
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=hostile-" + UUID.randomUUID() + "/");
    // A batch may declare up to 1 GiB: only what is decoded may be allocated.
    args.add("--max-batch-total-size-bytes=1073741824");
    server = ServerProcess.start(List.of("-Xmx128m", "-XX:+ExitOnOutOfMemoryError"), args);
    channel =
        NettyChannelBuilder.forTarget(server.target())
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
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

  private static Digest digest(byte[] data) {
    return Digest.newBuilder()
        .setHash(Streams.sha256(data, 0, data.length))
        .setSizeBytes(data.length)
        .build();
  }

  /** An honest round trip: a small blob written by a batch and read back. */
  private static void honestRoundTrip(long seed) {
    byte[] data = Streams.randomBytes(10_000, seed);
    BatchUpdateBlobsResponse up =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .setInstanceName(INSTANCE)
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(digest(data))
                        .setData(ByteString.copyFrom(data)))
                .build());
    assertThat(up.getResponses(0).getStatus().getCode()).isZero();
    BatchReadBlobsResponse read =
        cas.batchReadBlobs(
            BatchReadBlobsRequest.newBuilder().setInstanceName(INSTANCE).addDigests(digest(data)).build());
    assertThat(read.getResponses(0).getData().toByteArray()).isEqualTo(data);
  }

  @Test
  void declaredSizes_getPreciseStatuses_andTheProcessStaysUp() throws Exception {
    byte[] kilobyte = new byte[1024];
    byte[] zeros = new byte[32 << 20];
    BatchUpdateBlobsResponse r =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .setInstanceName(INSTANCE)
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(
                            Digest.newBuilder()
                                .setHash(Streams.sha256(kilobyte, 0, kilobyte.length))
                                .setSizeBytes((1L << 30) - (2L << 20)))
                        .setCompressor(Compressor.Value.ZSTD)
                        .setData(ByteString.copyFrom(Zstd.compress(kilobyte))))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(
                            Digest.newBuilder()
                                .setHash(Streams.sha256(zeros, 0, zeros.length))
                                .setSizeBytes(1 << 20))
                        .setCompressor(Compressor.Value.ZSTD)
                        .setData(ByteString.copyFrom(Zstd.compress(zeros))))
                .build());
    assertThat(r.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(r.getResponses(0).getStatus().getMessage())
        .isEqualTo("compressed data holds 1024 bytes (expected: 1071644672, the digest's size)");
    assertThat(r.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(r.getResponses(1).getStatus().getMessage())
        .isEqualTo("compressed data holds more than the digest's 1048576 bytes");
    assertThat(server.isAlive()).isTrue();
    honestRoundTrip(1);

    // A 32 MiB blob, stored honestly, then named with size 1 eight times by sixteen calls at once.
    byte[] big = Streams.randomBytes(32 << 20, 2);
    try (Streams streams = new Streams(server.target())) {
      assertThat(streams.writeAll(Streams.uploadName(INSTANCE, big), big).getCommittedSize())
          .isEqualTo(big.length);
    }
    Digest lie = digest(big).toBuilder().setSizeBytes(1).build();
    BatchReadBlobsRequest.Builder read = BatchReadBlobsRequest.newBuilder().setInstanceName(INSTANCE);
    for (int i = 0; i < 8; i++) {
      read.addDigests(lie);
    }
    var async = ContentAddressableStorageGrpc.newStub(channel);
    List<CompletableFuture<BatchReadBlobsResponse>> calls = new ArrayList<>();
    for (int c = 0; c < 16; c++) {
      CompletableFuture<BatchReadBlobsResponse> f = new CompletableFuture<>();
      async.batchReadBlobs(read.build(), Answers.into(f));
      calls.add(f);
    }
    for (CompletableFuture<BatchReadBlobsResponse> f : calls) {
      for (BatchReadBlobsResponse.Response e : f.get(120, TimeUnit.SECONDS).getResponsesList()) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(e.getStatus().getMessage())
            .isEqualTo("blob " + lie.getHash() + " has more than 1 bytes (expected: 1, the requested size)");
      }
    }
    assertThat(server.isAlive()).isTrue();

    // The same blob as a GetTree root: with a lying size it is not there; with its own, too large.
    assertThatThrownBy(
            () -> cas.getTree(GetTreeRequest.newBuilder().setInstanceName(INSTANCE).setRootDigest(lie).build()).next())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo("root directory sha256:" + lie.getHash() + "/1 is not in the CAS");
            });
    assertThatThrownBy(
            () ->
                cas.getTree(
                        GetTreeRequest.newBuilder()
                            .setInstanceName(INSTANCE)
                            .setRootDigest(digest(big))
                            .build())
                    .next())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo(
                      "directory sha256:" + lie.getHash() + "/33554432 is 33554432 bytes (expected: <= 3145728, the largest directory GetTree reads)");
            });
    assertThat(server.isAlive()).isTrue();
    honestRoundTrip(3);
    assertThat(server.log()).noneMatch(l -> l.contains("OutOfMemoryError"));
  }
}
