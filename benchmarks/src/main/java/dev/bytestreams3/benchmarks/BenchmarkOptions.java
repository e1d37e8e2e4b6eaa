package dev.bytestreams3.benchmarks;

import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The sizes and counts of one benchmark run, read from {@code --name=value} flags. The defaults are
 * the targets' figures except the counts that take too long against S3Mock on a small machine
 * (10,000 small writes and lookups, 100 uploads of 64 MiB): those default to 2,000 and to 100 of
 * 16 MiB; pass the flags to run the full figures. {@code --quick} scales everything down further.
 */
record BenchmarkOptions(
    Path out,
    int largeMib,
    int warmUpBlobs,
    int smallCount,
    int smallBytes,
    int concurrency,
    int findCount,
    int overheadMib,
    int floodCount,
    int floodMib,
    int slowObjectMib,
    int slowSeconds,
    int slowRateKib,
    int rebuildActions,
    int rebuildJobs,
    int rebuildLargeMib,
    int s3LatencyMs,
    int s3RateKib,
    boolean tier,
    Optional<URI> endpoint,
    Optional<String> bucket,
    boolean skipMemory,
    boolean skipDistant) {

  private static final Set<String> KNOWN =
      Set.of(
          "out", "quick", "large-mib", "warm-up-blobs", "small-count", "small-bytes", "concurrency",
          "find-count", "overhead-mib", "flood-count", "flood-mib", "slow-object-mib",
          "slow-seconds", "slow-rate-kib", "rebuild-actions", "rebuild-jobs", "rebuild-large-mib",
          "s3-latency-ms", "s3-rate-kib", "tier", "endpoint", "bucket", "skip-memory",
          "skip-distant");

  /** Parses {@code args}; an argument holding several flags separated by spaces is split. */
  static BenchmarkOptions parse(String... args) {
    Map<String, String> f = new HashMap<>();
    for (String arg : args) {
      for (String one : arg.trim().split("\\s+")) {
        if (one.isEmpty()) {
          continue;
        }
        if (!one.startsWith("--")) {
          throw new IllegalArgumentException("flag '" + one + "' (expected: --name=value)");
        }
        int eq = one.indexOf('=');
        String name = eq < 0 ? one.substring(2) : one.substring(2, eq);
        if (!KNOWN.contains(name)) {
          throw new IllegalArgumentException("unknown flag --" + name + " (known: " + KNOWN + ")");
        }
        f.put(name, eq < 0 ? "true" : one.substring(eq + 1));
      }
    }
    boolean quick = Boolean.parseBoolean(f.getOrDefault("quick", "false"));
    return new BenchmarkOptions(
        Path.of(f.getOrDefault("out", ".")).toAbsolutePath().normalize(),
        integer(f, "large-mib", quick ? 32 : 256),
        integer(f, "warm-up-blobs", quick ? 8 : 150),
        integer(f, "small-count", quick ? 1000 : 2000),
        integer(f, "small-bytes", 4096),
        integer(f, "concurrency", 64),
        integer(f, "find-count", quick ? 1000 : 2000),
        integer(f, "overhead-mib", quick ? 32 : 256),
        integer(f, "flood-count", quick ? 20 : 100),
        integer(f, "flood-mib", 64),
        integer(f, "slow-object-mib", quick ? 128 : 1024),
        integer(f, "slow-seconds", quick ? 8 : 30),
        integer(f, "slow-rate-kib", 1024),
        integer(f, "rebuild-actions", quick ? 200 : 1000),
        integer(f, "rebuild-jobs", 32),
        integer(f, "rebuild-large-mib", quick ? 1 : 8),
        atLeastZero(f, "s3-latency-ms", 20),
        atLeastZero(f, "s3-rate-kib", 0),
        Boolean.parseBoolean(f.getOrDefault("tier", "true")),
        Optional.ofNullable(f.get("endpoint")).map(URI::create),
        Optional.ofNullable(f.get("bucket")),
        Boolean.parseBoolean(f.getOrDefault("skip-memory", "false")),
        Boolean.parseBoolean(f.getOrDefault("skip-distant", "false")));
  }

  private static int integer(Map<String, String> f, String name, int otherwise) {
    return bounded(f, name, otherwise, 1, "a positive integer");
  }

  private static int atLeastZero(Map<String, String> f, String name, int otherwise) {
    return bounded(f, name, otherwise, 0, "an integer >= 0");
  }

  private static int bounded(Map<String, String> f, String name, int otherwise, int min, String expected) {
    String v = f.get(name);
    if (v == null) {
      return otherwise;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < min) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": " + v + " (expected: " + expected + ")");
    }
  }

  /** The command-line flags that reproduce these options. */
  String flags() {
    return String.format(
        "--large-mib=%d --warm-up-blobs=%d --small-count=%d --small-bytes=%d --concurrency=%d --find-count=%d"
            + " --overhead-mib=%d --flood-count=%d --flood-mib=%d --slow-object-mib=%d"
            + " --slow-seconds=%d --slow-rate-kib=%d --rebuild-actions=%d --rebuild-jobs=%d"
            + " --rebuild-large-mib=%d --s3-latency-ms=%d --s3-rate-kib=%d%s%s%s",
        largeMib, warmUpBlobs, smallCount, smallBytes, concurrency, findCount, overheadMib, floodCount,
        floodMib, slowObjectMib, slowSeconds, slowRateKib, rebuildActions, rebuildJobs,
        rebuildLargeMib, s3LatencyMs, s3RateKib, tier ? "" : " --tier=false",
        skipMemory ? " --skip-memory" : "", skipDistant ? " --skip-distant" : "");
  }
}
