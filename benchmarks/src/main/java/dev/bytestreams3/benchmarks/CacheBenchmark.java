package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.s3.S3BlobStore;
import dev.bytestreams3.storage.s3.S3MockFixture;
import dev.bytestreams3.storage.s3.S3StoreConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every scenario beside its baseline on loopback, prints the table and writes
 * {@code BENCHMARKS.md} and the chart.
 *
 * <p>Starts S3Mock in process unless {@code --endpoint} and {@code --bucket} name another S3 server
 * (credentials then come from the SDK's default chain). Flags ({@code --name=value}): {@code
 * --quick}, {@code --large-mib}, {@code --warm-up-blobs}, {@code --small-count}, {@code
 * --small-bytes}, {@code --concurrency}, {@code --find-count}, {@code --overhead-mib}, {@code
 * --flood-count}, {@code --flood-mib}, {@code --slow-object-mib}, {@code --slow-seconds}, {@code
 * --slow-rate-kib}, {@code --rebuild-actions}, {@code --rebuild-jobs}, {@code --rebuild-large-mib},
 * {@code --s3-latency-ms}, {@code --s3-rate-kib}, {@code --tier=false} (leaves out the rows of the
 * server with the local tier in front of S3), {@code --skip-memory}, {@code --skip-distant}, {@code
 * --out} (where {@code BENCHMARKS.md} goes). The scenarios with S3 at a distance ({@link DistantS3Scenarios}) run on S3Mock only.
 */
public final class CacheBenchmark {

  private static final int PART_BYTES = 8 << 20;
  private static final int SEGMENT_BYTES = 8 << 20;
  private static final int SEGMENTS_IN_FLIGHT = 4;
  private static final int EXISTENCE_CHECKS_IN_FLIGHT = 16;

  private CacheBenchmark() {}

  public static void main(String[] args) throws Exception {
    BenchmarkOptions options = BenchmarkOptions.parse(args);
    Report report = run(options);
    System.out.println(report.table());
    System.out.println("Wrote " + options.out().resolve(Report.MARKDOWN));
    System.exit(0);
  }

  /** Runs the scenarios {@code options} describe and writes the report; returns it. */
  static Report run(BenchmarkOptions options) throws Exception {
    S3MockFixture mock = null;
    URI endpoint;
    String bucket;
    S3StoreConfig.Builder config;
    if (options.endpoint().isPresent() && options.bucket().isPresent()) {
      endpoint = options.endpoint().get();
      bucket = options.bucket().get();
      config = S3StoreConfig.builder().bucket(bucket).endpointOverride(endpoint).pathStyleAccess(true);
    } else {
      mock = S3MockFixture.start();
      endpoint = mock.endpoint();
      bucket = mock.bucket();
      config = mock.storeConfig();
    }
    List<Row> rows = new ArrayList<>();
    List<double[]> sweep;
    Map<String, Double> rebuildSeconds = new LinkedHashMap<>();
    boolean ownCredentials = mock != null;
    try (S3Baseline sdk =
        S3Baseline.connect(
            endpoint, bucket, S3MockFixture.REGION,
            ownCredentials ? S3MockFixture.ACCESS_KEY : null,
            ownCredentials ? S3MockFixture.SECRET_KEY : null,
            PART_BYTES)) {
      MemoryBudget budget = new MemoryBudget(Runtime.getRuntime().maxMemory() / 4);
      // Our store's wait on CompleteMultipartUpload, timed as the baseline's is.
      CompleteTimer ourCompletes = new CompleteTimer();
      try (S3BlobStore store =
          S3BlobStore.create(
              config
                  .interceptors(List.of(ourCompletes))
                  .partSizeBytes(PART_BYTES)
                  .readSegmentBytes(SEGMENT_BYTES)
                  .maxSegmentsInFlight(SEGMENTS_IN_FLIGHT)
                  .build(),
              budget)) {
        CacheServer server = CacheServer.start("127.0.0.1", 0, store, true);
        ClientEventLoop clientLoop = new ClientEventLoop();
        ManagedChannel channel = clientLoop.channelTo(server.port());
        // The relay floor, on the same transport settings and client loop as our server.
        Server relayServer =
            BareServer.start(
                new S3RelayService(sdk, SEGMENT_BYTES, SEGMENTS_IN_FLIGHT),
                ConfigLoader.DEFAULT_GRPC_STREAM_WINDOW_BYTES);
        ManagedChannel relayChannel = clientLoop.channelTo(relayServer.getPort());
        try {
          S3Scenarios s3 =
              new S3Scenarios(
                  options, new ByteStreamClient(channel), new ByteStreamClient(relayChannel), sdk,
                  ourCompletes,
                  build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.newBlockingStub(channel),
                  PART_BYTES, SEGMENT_BYTES,
                  SEGMENTS_IN_FLIGHT, EXISTENCE_CHECKS_IN_FLIGHT);
          s3.runAll();
          rows.addAll(s3.rows());
          sweep = s3.sweep();
        } finally {
          relayChannel.shutdownNow();
          relayServer.shutdownNow();
          channel.shutdownNow();
          clientLoop.close();
          server.shutdown(Duration.ofSeconds(2));
        }
      }
      if (mock != null && !options.skipDistant()) {
        DistantS3Scenarios distant = new DistantS3Scenarios(options, mock);
        distant.runAll();
        rows.addAll(distant.rows());
        rebuildSeconds.putAll(distant.rebuildSeconds());
      }
      OverheadScenario overhead = new OverheadScenario(options.overheadMib());
      overhead.run();
      rows.addAll(overhead.rows());
      if (!options.skipMemory() && mock != null) {
        MemoryScenarios memory =
            new MemoryScenarios(
                options, endpoint, bucket, sdk, (long) SEGMENT_BYTES * SEGMENTS_IN_FLIGHT);
        memory.runAll();
        rows.addAll(memory.rows());
        HostileNeighbourScenario neighbour = new HostileNeighbourScenario(endpoint, bucket, options.floodMib());
        neighbour.run();
        rows.addAll(neighbour.rows());
      }
    } finally {
      if (mock != null) {
        mock.close();
      }
    }
    Report report = new Report(rows, sweep, rebuildSeconds, options.flags());
    report.write(options.out(), findings());
    return report;
  }

  /** The written findings that go below the table, kept beside the code that measures them. */
  private static String findings() throws IOException {
    try (InputStream in = CacheBenchmark.class.getResourceAsStream("findings.md")) {
      return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
