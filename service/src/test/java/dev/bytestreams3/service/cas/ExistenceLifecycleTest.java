package dev.bytestreams3.service.cas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.StoreGraph;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.storage.ExistenceCachedStore;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The existence cache never outlives a blob: its answers expire after the TTL by an injected
 * clock, a read that finds the blob missing drops the answer at once, and an action result whose
 * outputs are gone is a miss, never a hit. Blobs "expire" here by their files being deleted, as a
 * lifecycle rule deletes keys behind the server's back.
 */
class ExistenceLifecycleTest {

  private static final Duration TTL = Duration.ofMinutes(10);

  /** A clock the test moves by hand. */
  static final class TestClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @TempDir Path dir;
  private final TestClock clock = new TestClock();
  private LocalBlobStore store;
  private ExistenceCachedStore presence;
  private Server server;
  private ManagedChannel channel;
  private ContentAddressableStorageBlockingStub cas;

  @BeforeEach
  void start() throws Exception {
    store = new LocalBlobStore(dir, 1 << 20, 2);
    ServerConfig config =
        ConfigLoader.load(
            new String[] {"--existence-cache-entries=1000", "--existence-checks-in-flight=4",
                "--existence-cache-ttl-seconds=" + TTL.toSeconds()},
            Map.of());
    StoreGraph graph = StoreGraph.over(store, config, clock);
    presence = graph.existenceCache();
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name);
    for (BindableService s : CacheServer.services(graph, config)) {
      b.addService(s);
    }
    server = b.build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  private static Digest digest(byte[] data) throws Exception {
    return Digest.newBuilder()
        .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
        .setSizeBytes(data.length)
        .build();
  }

  private Digest put(String text) throws Exception {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    Digest d = digest(data);
    cas.batchUpdateBlobs(
        BatchUpdateBlobsRequest.newBuilder()
            .addRequests(
                BatchUpdateBlobsRequest.Request.newBuilder()
                    .setDigest(d)
                    .setData(ByteString.copyFrom(data)))
            .build());
    return d;
  }

  /** Deletes the blob's file, as an expiry rule or an operator would, behind the server's back. */
  private void expire(Digest d) throws Exception {
    Files.delete(dir.resolve("blobs").resolve("cas/sha256/" + d.getHash()));
  }

  private boolean reportedMissing(Digest d) {
    return cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(d).build())
        .getMissingBlobDigestsList()
        .contains(d);
  }

  @Test
  void findMissing_cachedAnswer_expiresAfterTtl() throws Exception {
    Digest d = put("cached for a while");
    assertThat(reportedMissing(d)).isFalse();
    clock.advance(TTL.minusSeconds(1));
    assertThat(reportedMissing(d)).isFalse();
    assertThat(presence.hits()).as("answered from the cache within the TTL").isEqualTo(2);
    assertThat(presence.storeChecks()).isZero();

    clock.advance(Duration.ofSeconds(1));
    assertThat(reportedMissing(d)).isFalse();
    assertThat(presence.misses()).as("asked of the store past the TTL").isEqualTo(1);
    assertThat(presence.storeChecks()).isEqualTo(1);
  }

  @Test
  void findMissing_blobGoneWithinTtl_isMissing_localStoreChecksOnTouch() throws Exception {
    Digest d = put("deleted behind the server's back");
    expire(d);
    // The cached answer is touched before it is repeated; the local store finds the file gone.
    assertThat(reportedMissing(d)).isTrue();
    assertThat(presence.invalidations()).isEqualTo(1);
  }

  @Test
  void read_findsBlobMissing_dropsCachedAnswerAtOnce() throws Exception {
    Digest d = put("read after it is gone");
    expire(d);
    assertThatThrownBy(
            () ->
                ByteStreamGrpc.newBlockingStub(channel)
                    .read(
                        ReadRequest.newBuilder()
                            .setResourceName("blobs/" + d.getHash() + "/" + d.getSizeBytes())
                            .build())
                    .forEachRemaining(r -> {}))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    assertThat(reportedMissing(d)).isTrue();
    assertThat(presence.invalidations()).isEqualTo(1);
  }

  @Test
  void batchRead_findsBlobMissing_dropsCachedAnswerAtOnce() throws Exception {
    Digest d = put("batch read after it is gone");
    expire(d);
    BatchReadBlobsResponse r =
        cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(d).build());
    assertThat(r.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());

    assertThat(reportedMissing(d)).isTrue();
    assertThat(presence.invalidations()).isEqualTo(1);
  }

  @Test
  void actionResult_outputsExpired_isMissNeverHit() throws Exception {
    Digest out = put("output of the action");
    Digest action = digest("the action".getBytes(StandardCharsets.UTF_8));
    var ac = ActionCacheGrpc.newBlockingStub(channel);
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder()
            .setActionDigest(action)
            .setActionResult(
                ActionResult.newBuilder()
                    .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(out)))
            .build());
    GetActionResultRequest get = GetActionResultRequest.newBuilder().setActionDigest(action).build();
    assertThat(ac.getActionResult(get).getOutputFiles(0).getDigest()).isEqualTo(out);

    // Unused for longer than the TTL (and, in a bucket, than the expiry age): the output goes.
    clock.advance(TTL);
    expire(out);
    assertThatThrownBy(() -> ac.getActionResult(get))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription())
                  .contains("which the CAS no longer holds")
                  .contains(out.getHash());
            });
  }

  @Test
  void actionResult_outputFoundMissingByRead_isMissWithinTtl() throws Exception {
    Digest out = put("output read by another client");
    Digest action = digest("another action".getBytes(StandardCharsets.UTF_8));
    var ac = ActionCacheGrpc.newBlockingStub(channel);
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder()
            .setActionDigest(action)
            .setActionResult(
                ActionResult.newBuilder()
                    .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(out)))
            .build());
    expire(out);
    cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(out).build());

    assertThatThrownBy(
            () -> ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }
}
