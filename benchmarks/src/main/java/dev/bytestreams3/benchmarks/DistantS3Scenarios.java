package dev.bytestreams3.benchmarks;

import dev.bytestreams3.storage.s3.FaultProxy;
import dev.bytestreams3.storage.s3.FaultProxy.Kind;
import dev.bytestreams3.storage.s3.S3MockFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The scenarios with S3 as far away as users have it: S3Mock behind a {@link FaultProxy} that
 * starts every response {@code --s3-latency-ms} late (20 ms by default, an S3 bucket in the
 * client's region) and, with {@code --s3-rate-kib}, holds each connection to a byte rate. Our
 * server runs on the local store (a), on S3 through the proxy (b) and, with {@code --tier}, on S3
 * through the proxy with the local tier in front (c); each is started from flags, as its main
 * would be. Rows: a warm rebuild's time on each, the S3 requests one operation costs us against
 * the SDK, and with the tier a large read repeated and a cold one.
 */
final class DistantS3Scenarios {

  private static final double MIB = 1024.0 * 1024;
  private static final long TIMEOUT_SECONDS = 1800;
  private static final int PART_BYTES = 8 << 20;
  private static final int SEGMENT_BYTES = 8 << 20;
  private static final int SEGMENTS_IN_FLIGHT = 4;
  private static final int MESSAGE_BYTES = 1 << 20;
  private static final int SMALL_BYTES = 4 << 10;
  private static final long MEMORY_BUDGET_BYTES = 256L << 20;
  private static final long TIER_BYTES = 4L << 30;
  /**
   * How long the tier's server serves an action result from its copy: a warm rebuild's replays all
   * fall within it, as a rebuild's lookups follow one another within minutes.
   */
  private static final int ACTION_RESULT_MAX_AGE_SECONDS = 300;

  /**
   * Replays of the warm rebuild on the local store and on the tier before the measured ones: the
   * first fills the tier, the second takes the path of hits the measured ones take.
   */
  private static final int REBUILD_WARM_UPS = 2;
  /** Measured replays on the local store and on the tier, taken in turn; the best counts. */
  private static final int REBUILD_ROUNDS = 5;
  /** Measured replays on S3 without the tier, after one that warms it up (each takes minutes). */
  private static final int DISTANT_REBUILD_ROUNDS = 3;
  private static final int TIER_READ_ROUNDS = 3;
  /** Reads of each blob from the local store and from the warm tier, taken in turn. */
  private static final int WARM_READS_PER_BLOB = 3;
  /** How long the tier may take to check and keep a blob after its cold read. */
  private static final long MAX_KEEP_MILLIS = 60_000;
  /** How long to wait after an operation for requests the server sends behind its answer. */
  private static final long SETTLE_MILLIS = 500;
  private static final long MAX_SETTLE_MILLIS = 30_000;
  private static final double REBUILD_TARGET = 1.2;
  private static final double TIER_READ_TARGET = 0.9;
  private static final double LARGE_REQUESTS_TARGET = 1.25;

  private final BenchmarkOptions options;
  private final S3MockFixture mock;
  private final Blobs blobs = new Blobs(20);
  private final List<Row> rows = new ArrayList<>();
  private final Map<String, Double> rebuildSeconds = new LinkedHashMap<>();

  DistantS3Scenarios(BenchmarkOptions options, S3MockFixture mock) {
    this.options = options;
    this.mock = mock;
  }

  List<Row> rows() {
    return rows;
  }

  /** The warm rebuild's best time on each server, in the order measured. */
  Map<String, Double> rebuildSeconds() {
    return rebuildSeconds;
  }

  void runAll() throws Exception {
    Path local = Files.createTempDirectory("benchmark-local-store");
    Path tier = Files.createTempDirectory("benchmark-tier");
    try (FaultProxy proxy =
            FaultProxy.start(mock.endpoint(), 0)
                .latency(options.s3LatencyMs())
                .bandwidth(options.s3RateKib() * 1024L)
                .watch("/cas/");
        ClientEventLoop loop = new ClientEventLoop();
        S3Baseline sdk =
            S3Baseline.connect(
                proxy.endpoint(), mock.bucket(), S3MockFixture.REGION, S3MockFixture.ACCESS_KEY,
                S3MockFixture.SECRET_KEY, PART_BYTES);
        FlaggedServer onLocal = FlaggedServer.start(loop, localFlags(local));
        FlaggedServer onS3 = FlaggedServer.start(loop, s3Flags(proxy));
        FlaggedServer onTier =
            options.tier() ? FlaggedServer.start(loop, tierFlags(proxy, tier)) : null) {
      rebuild(proxy, onLocal, onS3, onTier);
      requestsPerOperation(proxy, onS3, sdk);
      if (onTier != null) {
        tierReads(proxy, onLocal, onS3, onTier);
      }
    } finally {
      deleteTree(local);
      deleteTree(tier);
    }
  }

  private List<String> localFlags(Path dir) {
    return List.of("--data-dir=" + dir, "--memory-budget-bytes=" + MEMORY_BUDGET_BYTES);
  }

  private List<String> s3Flags(FaultProxy proxy) {
    return List.of(
        "--bucket=" + mock.bucket(),
        "--endpoint=" + proxy.endpoint(),
        "--region=" + S3MockFixture.REGION,
        "--path-style=true",
        "--access-key-id=" + S3MockFixture.ACCESS_KEY,
        "--secret-access-key=" + S3MockFixture.SECRET_KEY,
        "--part-size-bytes=" + PART_BYTES,
        "--read-segment-bytes=" + SEGMENT_BYTES,
        "--read-segments-in-flight=" + SEGMENTS_IN_FLIGHT,
        "--memory-budget-bytes=" + MEMORY_BUDGET_BYTES);
  }

  private List<String> tierFlags(FaultProxy proxy, Path dir) {
    List<String> flags = new ArrayList<>(s3Flags(proxy));
    flags.add("--cache-dir=" + dir);
    flags.add("--cache-max-bytes=" + TIER_BYTES);
    flags.add("--cache-action-results-max-age-seconds=" + ACTION_RESULT_MAX_AGE_SECONDS);
    return flags;
  }

  private String distance() {
    return "S3 " + options.s3LatencyMs() + " ms away"
        + (options.s3RateKib() > 0 ? ", " + options.s3RateKib() + " KiB/s a connection" : "");
  }

  /**
   * The same warm rebuild on every server: the cache filled through the local store and through S3
   * without the tier (the S3 servers share the bucket, so the tier's server finds the blobs in S3
   * and its tier empty). The local store and the tier replay in turn, {@link #REBUILD_WARM_UPS}
   * times to warm up and then {@link #REBUILD_ROUNDS} times measured, within seconds of one
   * another as a rebuild's lookups are; then S3 without the tier, once to warm up and {@link
   * #DISTANT_REBUILD_ROUNDS} times measured. The best replay of each counts; the S3 GETs of CAS
   * blobs are counted at the proxy over the measured replays.
   */
  private void rebuild(
      FaultProxy proxy, FlaggedServer onLocal, FlaggedServer onS3, FlaggedServer onTier)
      throws Exception {
    WarmRebuild build =
        WarmRebuild.generate(
            options.rebuildActions(), options.rebuildLargeMib() << 20, options.rebuildJobs(), 7);
    for (FlaggedServer filled : List.of(onLocal, onS3)) {
      long start = System.nanoTime();
      build.store(filled.channel());
      System.out.printf(
          Locale.ROOT, "cold build of %d actions stored through %s in %.1f s%n", build.actions(),
          filled == onLocal ? "the local store" : distance(), (System.nanoTime() - start) / 1e9);
    }
    Replays local = new Replays(onLocal, REBUILD_ROUNDS);
    Replays distant = new Replays(onS3, DISTANT_REBUILD_ROUNDS);
    Replays tiered = onTier != null ? new Replays(onTier, REBUILD_ROUNDS) : null;
    List<Replays> near = tiered != null ? List.of(local, tiered) : List.of(local);
    for (int w = 0; w < REBUILD_WARM_UPS; w++) {
      for (Replays r : near) {
        build.replay(r.server.channel());
        settle(proxy);
      }
    }
    for (int round = 0; round < REBUILD_ROUNDS; round++) {
      for (Replays r : near) {
        r.measure(build, proxy);
      }
    }
    build.replay(onS3.channel());
    settle(proxy);
    for (int round = 0; round < DISTANT_REBUILD_ROUNDS; round++) {
      distant.measure(build, proxy);
    }
    String what =
        String.format(
            Locale.ROOT,
            "warm rebuild of %d actions (%d outputs, %.0f MiB)",
            build.actions(), build.outputs(), build.outputBytes() / MIB);
    String replay =
        String.format(
            Locale.ROOT,
            "FindMissingBlobs over the inputs, GetActionResult and the outputs' reads, %d actions"
                + " at a time, %d outputs of 1-16 KiB, %d of %d MiB",
            options.rebuildJobs(), build.outputs() - build.largeOutputs(), build.largeOutputs(),
            options.rebuildLargeMib());
    rebuildSeconds.put("local store", local.best);
    rebuildSeconds.put(distance() + ", no tier", distant.best);
    rows.add(
        Row.measured(
            what + ", " + distance() + ", no tier",
            "s",
            distant.best,
            local.best,
            "baseline: the same replay on the local store (best of " + REBUILD_ROUNDS + "); "
                + replay + "; best of " + DISTANT_REBUILD_ROUNDS + "; "
                + distant.perReplay(distant.requests) + " S3 requests, "
                + distant.perReplay(distant.casGets) + " of them GETs of CAS blobs, a replay (in "
                + DISTANT_REBUILD_ROUNDS + " replays: " + new Count(distant.kinds).kinds() + ")"));
    if (tiered != null) {
      rebuildSeconds.put(distance() + ", tier warm", tiered.best);
      double ratio = tiered.best / local.best;
      rows.add(
          new Row(
              what + ", " + distance() + ", tier warm",
              "s",
              tiered.best,
              local.best,
              "≤ " + REBUILD_TARGET + "×, 0 CAS GETs",
              ratio <= REBUILD_TARGET && tiered.casGets == 0,
              "baseline: the same replay on the local store; " + replay + "; best of "
                  + REBUILD_ROUNDS + " taken in turn with the baseline's, after "
                  + REBUILD_WARM_UPS + " that warm both; " + tiered.casGets
                  + " GETs of CAS blobs in " + REBUILD_ROUNDS + " replays, "
                  + tiered.perReplay(tiered.requests) + " S3 requests a replay (in "
                  + REBUILD_ROUNDS + " replays: " + new Count(tiered.kinds).kinds()
                  + "); action results served from the tier for up to "
                  + ACTION_RESULT_MAX_AGE_SECONDS + " s (--cache-action-results-max-age-seconds)"));
    }
  }

  /** The measured replays of the warm rebuild on one server: the best time and what S3 saw. */
  private static final class Replays {

    private final FlaggedServer server;
    private final int rounds;
    private final Map<Kind, Long> kinds = new EnumMap<>(Kind.class);
    private double best = Double.MAX_VALUE;
    private long casGets;
    private long requests;

    private Replays(FlaggedServer server, int rounds) {
      this.server = server;
      this.rounds = rounds;
    }

    /** One measured replay; the S3 requests its server sends behind its answers count as its. */
    private void measure(WarmRebuild build, FaultProxy proxy) throws Exception {
      long gets = casGets(proxy);
      long all = proxy.totalRequests();
      Map<Kind, Long> before = requestsByKind(proxy);
      best = Math.min(best, build.replay(server.channel()));
      settle(proxy);
      casGets += casGets(proxy) - gets;
      requests += proxy.totalRequests() - all;
      madeSince(proxy, before).byKind().forEach((k, n) -> kinds.merge(k, n, Long::sum));
    }

    /** {@code total} over this server's measured replays, a replay. */
    private String perReplay(long total) {
      return String.format(Locale.ROOT, "%.0f", (double) total / rounds);
    }
  }

  /**
   * Waits until no S3 request has reached the proxy for {@link #SETTLE_MILLIS}, or {@link
   * #MAX_SETTLE_MILLIS} have passed.
   */
  private static void settle(FaultProxy proxy) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_SETTLE_MILLIS);
    long seen = proxy.totalRequests();
    while (System.nanoTime() < deadline) {
      Thread.sleep(SETTLE_MILLIS);
      long now = proxy.totalRequests();
      if (now == seen) {
        return;
      }
      seen = now;
    }
  }

  private static long casGets(FaultProxy proxy) {
    return proxy.requests(Kind.GET, "/cas/") + proxy.requests(Kind.GET_RANGE, "/cas/");
  }

  /**
   * S3 requests of one write and one read of a large and of a small blob through our server on
   * S3, against the SDK doing the same (multipart upload of the same part size, ranged GETs of the
   * same segment size, one PutObject, one GET), counted at the proxy.
   */
  private void requestsPerOperation(FaultProxy proxy, FlaggedServer onS3, S3Baseline sdk)
      throws Exception {
    ByteStreamClient client = new ByteStreamClient(onS3.channel());
    for (int bytes : new int[] {options.largeMib() << 20, SMALL_BYTES}) {
      byte[] data = blobs.random(bytes);
      String key = "baseline/requests/" + Blobs.sha256(data);
      Count ourWrite =
          count(proxy, () -> client.write(Blobs.uploadName(data), data, Math.min(bytes, MESSAGE_BYTES)));
      Count sdkWrite =
          count(
              proxy,
              () -> bytes > PART_BYTES ? sdk.multipartUpload(key, data) : sdk.put(key, data));
      Count ourRead = count(proxy, () -> client.read(Blobs.readName(data), data));
      Count sdkRead =
          count(proxy, () -> sdk.rangedDownload(key, data, SEGMENT_BYTES, SEGMENTS_IN_FLIGHT));
      String size = bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
      rows.add(requestRow("S3 requests to write " + size, ourWrite, sdkWrite, bytes > PART_BYTES,
          "baseline: " + (bytes > PART_BYTES ? "SDK multipart upload, " + (PART_BYTES >> 20)
              + " MiB parts" : "one PutObject")));
      rows.add(requestRow("S3 requests to read " + size, ourRead, sdkRead, bytes > PART_BYTES,
          "baseline: " + (bytes > SEGMENT_BYTES ? "ranged GETs of " + (SEGMENT_BYTES >> 20) + " MiB, "
              + SEGMENTS_IN_FLIGHT + " in flight" : "one GET")));
    }
  }

  private Row requestRow(String what, Count ours, Count sdk, boolean large, String baseline) {
    String note =
        baseline + "; written and read through the same server; ours: " + ours.kinds()
            + "; baseline: " + sdk.kinds();
    if (large) {
      return Row.compared(what, "requests", ours.total(), sdk.total(), LARGE_REQUESTS_TARGET, false, note);
    }
    return new Row(
        what, "requests", ours.total(), sdk.total(), "≤ +1 request", ours.total() <= sdk.total() + 1, note);
  }

  /**
   * The large read through the tier twice (the first read cold, the second from the tier once it
   * has checked and kept the blob, which is timed and reported) against
   * the same read from the local store and through the server without the tier, on blobs written
   * through the server without the tier, so that the tier has not seen them; best of {@link
   * #TIER_READ_ROUNDS} rounds, each on a new blob.
   */
  private void tierReads(
      FaultProxy proxy, FlaggedServer onLocal, FlaggedServer onS3, FlaggedServer onTier)
      throws Exception {
    ByteStreamClient local = new ByteStreamClient(onLocal.channel());
    ByteStreamClient s3 = new ByteStreamClient(onS3.channel());
    ByteStreamClient tiered = new ByteStreamClient(onTier.channel());
    double localBest = Double.MAX_VALUE;
    double s3Best = Double.MAX_VALUE;
    double coldBest = Double.MAX_VALUE;
    double warmBest = Double.MAX_VALUE;
    double keepLongest = 0;
    long warmGets = 0;
    for (int round = 0; round < TIER_READ_ROUNDS; round++) {
      byte[] data = blobs.random(options.largeMib() << 20);
      local.write(Blobs.uploadName(data), data, MESSAGE_BYTES).get();
      s3.write(Blobs.uploadName(data), data, MESSAGE_BYTES).get();
      String name = Blobs.readName(data);
      s3Best = Math.min(s3Best, Timed.seconds(() -> s3.read(name, data), TIMEOUT_SECONDS));
      long kept = onTier.tierFills();
      coldBest = Math.min(coldBest, Timed.seconds(() -> tiered.read(name, data), TIMEOUT_SECONDS));
      keepLongest = Math.max(keepLongest, awaitKept(onTier, kept + 1));
      long gets = casGets(proxy);
      // Reads of a quarter of a second or less vary by a third from one to the next on shared
      // cores: each blob is read in turn from the local store and from the tier, several times.
      for (int i = 0; i < WARM_READS_PER_BLOB; i++) {
        localBest =
            Math.min(localBest, Timed.seconds(() -> local.read(name, data), TIMEOUT_SECONDS));
        warmBest =
            Math.min(warmBest, Timed.seconds(() -> tiered.read(name, data), TIMEOUT_SECONDS));
      }
      warmGets += casGets(proxy) - gets;
    }
    double mib = options.largeMib();
    rows.add(
        Row.compared(
            "read " + options.largeMib() + " MiB twice through the tier, second read",
            "MiB/s", mib / warmBest, mib / localBest, TIER_READ_TARGET, true,
            "baseline: the same read from the local store; best of " + TIER_READ_ROUNDS
                + " blobs, each read " + WARM_READS_PER_BLOB + " times from both in turn; "
                + warmGets + " GETs of CAS blobs in the second reads, each once the"
                + String.format(
                    Locale.ROOT, " tier had checked and kept its blob (at most %.2f s after the"
                        + " first read)", keepLongest)));
    rows.add(
        Row.compared(
            "read " + options.largeMib() + " MiB through the tier, cold",
            "MiB/s", mib / coldBest, mib / s3Best, TIER_READ_TARGET, true,
            "baseline: the same read without the tier, " + distance() + "; best of "
                + TIER_READ_ROUNDS + " blobs"));
  }

  /**
   * Waits until the tier of {@code server} has kept {@code fills} blobs, as it does once a fill's
   * file has passed its check; returns the seconds waited.
   */
  private static double awaitKept(FlaggedServer server, long fills) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.MILLISECONDS.toNanos(MAX_KEEP_MILLIS);
    while (server.tierFills() < fills) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the tier kept no copy of the blob within " + MAX_KEEP_MILLIS + " ms of its read");
      }
      Thread.sleep(5);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /** Runs {@code op} and counts the S3 requests it made, by kind. */
  private static Count count(FaultProxy proxy, Callable<CompletableFuture<?>> op)
      throws Exception {
    Map<Kind, Long> before = requestsByKind(proxy);
    op.call().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Thread.sleep(SETTLE_MILLIS);
    return madeSince(proxy, before);
  }

  /** The requests the proxy has seen so far, by kind. */
  private static Map<Kind, Long> requestsByKind(FaultProxy proxy) {
    Map<Kind, Long> seen = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      seen.put(k, proxy.requests(k));
    }
    return seen;
  }

  /** The requests of each kind the proxy has seen since {@code before}, kinds with none left out. */
  private static Count madeSince(FaultProxy proxy, Map<Kind, Long> before) {
    Map<Kind, Long> made = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      long n = proxy.requests(k) - before.get(k);
      if (n > 0) {
        made.put(k, n);
      }
    }
    return new Count(made);
  }

  /** S3 requests one operation made, by kind. */
  private record Count(Map<Kind, Long> byKind) {
    long total() {
      return byKind.values().stream().mapToLong(Long::longValue).sum();
    }

    String kinds() {
      StringBuilder b = new StringBuilder();
      byKind.forEach(
          (k, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(k.name()));
      return b.length() == 0 ? "none" : b.toString();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
