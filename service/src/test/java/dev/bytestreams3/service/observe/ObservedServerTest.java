package dev.bytestreams3.service.observe;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.bytestream.ByteStreamClient;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees of real calls: Prometheus metrics and one log line per call. */
class ObservedServerTest {

  private static final String WRITE = "google.bytestream.ByteStream/Write";
  private static final String READ = "google.bytestream.ByteStream/Read";

  @TempDir Path dir;

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private PrometheusMeterRegistry registry;
  private MetricsText metrics;
  private LocalBlobStore store;
  private CacheServer server;
  private ManagedChannel channel;
  private ByteStreamClient client;

  @BeforeEach
  void start() throws Exception {
    startWith(LogFormat.TEXT);
  }

  private void startWith(LogFormat format) throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    metrics = new MetricsText(registry);
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    EventLog events = new EventLog(format, lines::add, Clock.systemUTC());
    CallRecorder recorder =
        new CallRecorder(List.of(new RpcMetrics(registry), new RpcLog(events)), Clock.systemUTC());
    server =
        CacheServer.start(
            "127.0.0.1", 0, store, true,
            new ServerOptions(Optional.empty(), List.of(recorder, new CacheLookupMetrics(registry))));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    client = new ByteStreamClient(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdown(Duration.ZERO);
    store.close();
  }

  /** The value of the sample {@code name{labels}} in the scrape, or -1 when it is absent. */
  private double sample(String name, String labels) {
    Pattern p =
        Pattern.compile(
            "^" + Pattern.quote(name) + "\\{" + Pattern.quote(labels) + "\\} (\\S+)$",
            Pattern.MULTILINE);
    Matcher m = p.matcher(metrics.scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static String upload(byte[] data) {
    return "ci/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
  }

  @Test
  void calls_areCountedByMethodAndStatus_withLatencyBucketsAndBytes() throws Exception {
    byte[] data = randomBytes(200_000, 1);
    client.writeAll(upload(data), data);
    assertThat(client.read("ci/blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
    assertThatThrownBy(() -> client.read("ci/blobs/" + sha256(new byte[1]) + "/1", 0, 0));

    String write = "method=\"" + WRITE + "\",status=\"OK\"";
    assertThat(sample("grpc_server_calls_seconds_count", write)).isEqualTo(1);
    assertThat(sample("grpc_server_calls_seconds_count", "method=\"" + READ + "\",status=\"OK\""))
        .isEqualTo(1);
    assertThat(
            sample("grpc_server_calls_seconds_count", "method=\"" + READ + "\",status=\"NOT_FOUND\""))
        .isEqualTo(1);
    // The histogram has cumulative buckets up to +Inf.
    assertThat(sample("grpc_server_calls_seconds_bucket", write + ",le=\"+Inf\"")).isEqualTo(1);
    assertThat(sample("grpc_server_calls_seconds_bucket", write + ",le=\"900.0\"")).isEqualTo(1);
    assertThat(sample("grpc_server_received_bytes_total", "method=\"" + WRITE + "\""))
        .isBetween(200_000.0, 201_000.0);
    assertThat(sample("grpc_server_sent_bytes_total", "method=\"" + READ + "\""))
        .isBetween(200_000.0, 201_000.0);
  }

  @Test
  void uploadsInFlight_countOpenWrites() throws Exception {
    assertThat(metrics.scrape()).contains("bytestream_uploads_in_flight 0");
    byte[] data = randomBytes(50_000, 2);
    String name = upload(data);
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    StreamObserver<WriteRequest> out =
        ByteStreamGrpc.newStub(channel)
            .write(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WriteResponse r) {
                    done.complete(r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    List<WriteRequest> requests = chunks(name, data, 0, 10_000, true);
    out.onNext(requests.get(0));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!metrics.scrape().contains("bytestream_uploads_in_flight 1")
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(metrics.scrape()).contains("bytestream_uploads_in_flight 1");
    requests.subList(1, requests.size()).forEach(out::onNext);
    out.onCompleted();
    assertThat(done.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(data.length);
    channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!metrics.scrape().contains("bytestream_uploads_in_flight 0")
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(metrics.scrape()).contains("bytestream_uploads_in_flight 0");
  }

  @Test
  void memoryBudget_inUseAndWaitingAreGauges() {
    MemoryBudget budget = new MemoryBudget(10_000);
    MemoryBudgetMetrics.register(budget, registry);
    try (MemoryBudget.Reservation r = budget.tryReserve(4096)) {
      assertThat(metrics.scrape())
          .contains("bytestream_memory_budget_used_bytes 4096")
          .contains("bytestream_memory_budget_capacity_bytes 10000")
          .contains("bytestream_memory_budget_waiting 0");
      CompletableFuture<MemoryBudget.Reservation> waiting = budget.reserve(8000);
      assertThat(metrics.scrape()).contains("bytestream_memory_budget_waiting 1");
      r.close();
      waiting.join().close();
    }
    assertThat(metrics.scrape())
        .contains("bytestream_memory_budget_used_bytes 0")
        .contains("bytestream_memory_budget_peak_bytes 8000")
        .contains("bytestream_memory_budget_waiting 0");
  }

  private static Digest digestOf(byte[] data) {
    return Digest.newBuilder().setHash(sha256(data)).setSizeBytes(data.length).build();
  }

  @Test
  void cacheLookups_countActionResultHitsAndMisses_andEachDistinctBlobAsked() throws Exception {
    String lookups = "bytestream_cache_lookups_total";
    // Present from the start, so a hit ratio exists before the first lookup.
    assertThat(sample(lookups, "kind=\"action_result\",result=\"hit\"")).isZero();
    assertThat(sample(lookups, "kind=\"blob\",result=\"miss\"")).isZero();

    byte[] stored = randomBytes(3000, 5);
    client.writeAll(upload(stored), stored);
    Digest present = digestOf(stored);
    Digest absent1 = digestOf(randomBytes(10, 6));
    Digest absent2 = digestOf(randomBytes(11, 7));
    var cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
    assertThat(
            cas.findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .setInstanceName("ci")
                        .addBlobDigests(present)
                        .addBlobDigests(absent1)
                        .addBlobDigests(absent2)
                        .addBlobDigests(absent1)
                        .build())
                .getMissingBlobDigestsCount())
        .isEqualTo(2);

    var ac = ActionCacheGrpc.newBlockingStub(channel);
    Digest action = digestOf(randomBytes(40, 8));
    GetActionResultRequest get =
        GetActionResultRequest.newBuilder().setInstanceName("ci").setActionDigest(action).build();
    assertThatThrownBy(() -> ac.getActionResult(get)).hasMessageContaining("NOT_FOUND");
    ac.updateActionResult(
        UpdateActionResultRequest.newBuilder()
            .setInstanceName("ci")
            .setActionDigest(action)
            .setActionResult(ActionResult.newBuilder().setExitCode(0))
            .build());
    assertThat(ac.getActionResult(get).getExitCode()).isZero();
    ac.getActionResult(get);

    assertThat(sample(lookups, "kind=\"blob\",result=\"hit\"")).isEqualTo(1);
    assertThat(sample(lookups, "kind=\"blob\",result=\"miss\"")).isEqualTo(2);
    assertThat(sample(lookups, "kind=\"action_result\",result=\"hit\"")).isEqualTo(2);
    assertThat(sample(lookups, "kind=\"action_result\",result=\"miss\"")).isEqualTo(1);
  }

  @Test
  void log_hasOneLinePerCall_notPerMessage() throws Exception {
    byte[] data = randomBytes(300_000, 3);
    String name = upload(data);
    // 19 messages of 16 KiB make one call, and one line.
    client.writeAll(name, data);
    assertThatThrownBy(() -> client.read("ci/blobs/" + sha256(new byte[2]) + "/2", 0, 0));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .matches(
            "time=\\S+ level=info event=rpc method=" + Pattern.quote(WRITE) + " resource="
                + Pattern.quote(name) + " status=OK bytes_in=30\\d{4} bytes_out=\\d+ duration_ms=[0-9.]+");
    assertThat(lines.get(1))
        .contains("level=warn event=rpc method=" + READ, "status=NOT_FOUND")
        .containsPattern("message=\"[^\"]*not found[^\"]*\"|message=\"[^\"]+\"");
  }

  @Test
  void jsonLog_isOneObjectPerLine() throws Exception {
    stop();
    lines.clear();
    startWith(LogFormat.JSON);
    byte[] data = randomBytes(1000, 4);
    String name = upload(data);
    client.writeAll(name, data);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .startsWith("{\"time\":\"")
        .contains(
            "\"level\":\"info\",\"event\":\"rpc\",\"method\":\"" + WRITE + "\",\"resource\":\""
                + name + "\",\"status\":\"OK\",\"bytes_in\":1")
        .containsPattern("\"bytes_in\":1\\d{3},\"bytes_out\":\\d+,\"duration_ms\":[0-9.]+}$");
  }
}
