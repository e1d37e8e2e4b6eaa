package dev.bytestreams3.service.config;

import dev.bytestreams3.service.observe.LogFormat;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads {@link ServerConfig} from command-line flags ({@code --name=value} or {@code --name value}),
 * then environment variables ({@code BS3_NAME}), then defaults. A flag wins over the environment.
 */
public final class ConfigLoader {

  /**
   * The HTTP/2 flow-control window of each gRPC stream unless configured. A larger window speeds a
   * stream of large messages, but the frames of streams waiting for the memory budget pin pooled
   * direct buffers: at 1 MiB, 100 concurrent uploads exhausted a 512 MiB heap's direct memory.
   */
  public static final int DEFAULT_GRPC_STREAM_WINDOW_BYTES = 256 << 10;

  /** One setting: its flag name, default and meaning. */
  record Setting(String name, String defaultValue, String description) {
    String env() {
      return "BS3_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }
  }

  static final List<Setting> SETTINGS =
      List.of(
          new Setting("bind-address", "127.0.0.1", "Address the gRPC and HTTP servers listen on (0.0.0.0 in a container)."),
          new Setting("grpc-port", "8980", "gRPC port; 0 picks a free one."),
          new Setting("grpc-stream-window-bytes", Integer.toString(DEFAULT_GRPC_STREAM_WINDOW_BYTES), "HTTP/2 flow-control window of each gRPC stream: unread bytes a stream may buffer outside the memory budget (raise it for clients far away)."),
          new Setting("data-dir", "data", "Folder of the local store, used when no bucket is set."),
          new Setting("memory-budget-bytes", "", "Bytes all write buffers and read-ahead may hold together (default: a quarter of the heap)."),
          new Setting("object-overwrite", "true", "Whether a write may replace an existing plain (non-CAS) object."),
          new Setting("shutdown-grace-seconds", "30", "On SIGTERM, how long in-flight calls may run before they are cut."),
          new Setting("upload-idle-timeout-seconds", "86400", "Unfinished uploads idle this long are aborted (S3 multipart uploads cost storage)."),
          new Setting("bucket", "", "S3 bucket; when set, blobs are stored in S3 instead of the local folder."),
          new Setting("prefix", "", "Key prefix inside the bucket, e.g. 'cache/'."),
          new Setting("region", "", "S3 region (default: the AWS SDK's region chain)."),
          new Setting("endpoint", "", "S3 endpoint URL for S3-compatible stores, e.g. http://127.0.0.1:9000."),
          new Setting("path-style", "false", "Use path-style S3 addressing (most S3-compatible stores need it)."),
          new Setting("access-key-id", "", "Static S3 access key for development (default: the AWS SDK's credential chain)."),
          new Setting("secret-access-key", "", "Static S3 secret key, with --access-key-id."),
          new Setting("checksum-mode", "when-required", "S3 request checksums: when-required (works with stores that reject aws-chunked trailers) or when-supported."),
          new Setting("part-size-bytes", "8388608", "S3 multipart part size (>= 5 MiB; raised per upload so its declared size fits in 10,000 parts)."),
          new Setting("parts-in-flight", "4", "Parts of one upload sent to S3 at once."),
          new Setting("upload-record-every-parts", "16", "An upload's record (what lets it resume on any replica) is written at its first part, then once this many more parts are in S3; 1 writes it at every part. Parts sent after the last record write are sent again by a resumed upload."),
          new Setting("upload-record-every-seconds", "10", "An upload's record is also written once this long has passed since its last write while parts wait for it (less than --upload-idle-timeout-seconds); 0 writes it at every part."),
          new Setting("read-segment-bytes", "8388608", "Size of one ranged GET of a read."),
          new Setting("read-segments-in-flight", "4", "Ranged GETs of one read in flight (read-ahead, within the memory budget)."),
          new Setting("http-port", "8080", "HTTP port of the JSON gateway, raw byte routes, upload page and health checks; 0 picks a free one, -1 turns HTTP off."),
          new Setting("http-rules", "", "A google.api.Service YAML file whose http.rules map gRPC methods to HTTP (default: the shipped ByteStream rules); REAPI annotations apply unless a rule replaces them."),
          new Setting("http-strict-json", "false", "Strict proto3 JSON in the gateway: unknown JSON fields and query parameters are 400 and default values are left out of responses (default: grpc-gateway v2's behaviour, which ignores them and emits every field)."),
          new Setting("http-ignore-unknown-fields", "", "Overrides the unknown-field part of --http-strict-json: true ignores JSON fields and query parameters the request message lacks, false answers 400 (default: true unless --http-strict-json)."),
          new Setting("http-max-message-bytes", "16777216", "Longest JSON message the gateway accepts: a unary body or one message of a streamed body."),
          new Setting("http-unary-timeout-seconds", "30", "Deadline of non-streaming gateway calls without a Grpc-Timeout header; 0 for none."),
          new Setting("log-format", "text", "Format of the server's log lines on standard output: text (key=value) or json (one object per line)."),
          new Setting("tls-cert-file", "", "PEM certificate chain the server presents; with --tls-key-file, turns TLS on."),
          new Setting("tls-key-file", "", "PEM (PKCS#8) private key of --tls-cert-file."),
          new Setting("tls-client-ca-file", "", "PEM CA certificates; when set, every client must present a certificate they issued (mutual TLS)."),
          new Setting("token-file", "", "Bearer tokens and their rights per instance prefix; when set, every call needs a token. Reloaded when it changes."),
          new Setting("instance-names", "", "Comma-separated instance names served; empty serves every instance. A leading comma admits the unnamed instance, e.g. ',main,ci/linux'."),
          new Setting("action-cache-read-only", "false", "Refuse UpdateActionResult (clients are told update_enabled: false)."),
          new Setting("max-batch-total-size-bytes", "4194304", "Largest total blob size of one BatchUpdateBlobs or BatchReadBlobs call."),
          new Setting("max-cas-blob-size-bytes", "5497558138880", "Largest blob the CAS accepts, at most S3's object limit of 5 TiB (the default); a larger declared size is refused before anything is reserved."),
          new Setting("inline-output-limit-bytes", "1048576", "Most bytes GetActionResult inlines (stdout, stderr, output files) in one answer."),
          new Setting("existence-cache-entries", "100000", "Blobs remembered as present, sparing FindMissingBlobs and action-cache checks a request to the store; 0 turns the cache off."),
          new Setting("existence-checks-in-flight", "16", "Existence checks the server runs against the store at once, across all calls."),
          new Setting("write-first-message-timeout-seconds", "10", "A Write that sends no first message this long after the server asks for it is ended (DEADLINE_EXCEEDED) and returns its memory."),
          new Setting("stream-idle-timeout-seconds", "60", "A Write that sends nothing more, or a Read whose client takes nothing, for this long is ended (DEADLINE_EXCEEDED) and returns its memory."),
          new Setting("grpc-keepalive-time-seconds", "60", "The server pings a gRPC connection quiet this long, to find dead peers."),
          new Setting("grpc-keepalive-timeout-seconds", "20", "A connection that leaves a ping unanswered this long is closed."),
          new Setting("grpc-max-connection-idle-seconds", "600", "A gRPC connection without calls this long is closed gracefully (clients reconnect)."),
          new Setting("grpc-max-connection-age-seconds", "3600", "A gRPC connection this old is asked to go away (GOAWAY); its calls may run on for the grace below. 0 for no limit."),
          new Setting("grpc-max-connection-age-grace-seconds", "600", "How long calls may run on a connection asked to go away before it is closed."),
          new Setting("grpc-max-concurrent-streams", "1000", "Calls one gRPC connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)."),
          new Setting("existence-cache-ttl-seconds", "3600", "How long a blob found present is remembered; with --expiry-age-days, it and the refresh threshold must fit inside the expiry age."),
          new Setting("expiry-age-days", "0", "Age in days after which the bucket's lifecycle rule deletes an object (the Terraform's expiry_days); blobs in use are refreshed before it. 0: the bucket expires nothing."),
          new Setting("refresh-threshold-seconds", "", "With --expiry-age-days: a blob in use is copied in place once its date is this old (default: half the expiry age)."),
          new Setting("max-disk-bytes", "", "Local store: the most bytes of blobs and objects kept; least recently used ones are evicted beyond it (default: half the free space of the data folder's disk at start)."),
          new Setting("s3-max-attempts", "3", "Attempts per S3 request, the first included; 5xx, throttling, reset and timed-out requests are retried with the AWS SDK's exponential backoff."),
          new Setting("s3-response-timeout-seconds", "10", "How long one S3 request attempt may wait for S3 to send anything before it fails (and is retried)."),
          new Setting("readiness-cache-seconds", "1", "How long /readyz reuses its last store probe: probes in between cost S3 nothing."),
          new Setting("readiness-timeout-seconds", "4", "How long /readyz waits for the store probe before answering 503."),
          new Setting("cache-dir", "", "Folder of a local disk tier in front of the store: CAS blobs read or written are kept there and served from disk (off when empty)."),
          new Setting("cache-max-bytes", "", "With --cache-dir: the most bytes of blobs the tier keeps; least recently used ones are evicted beyond it (default: half the free space of its disk at start)."),
          new Setting("cache-action-results-max-age-seconds", "0", "With --cache-dir: action results are also kept in the tier and served from it while its copy, read from or written to the store, is younger than this; another replica's newer result may go unseen that long. 0: action results always come from the store."));

  private ConfigLoader() {}

  /** Returns {@code true} when {@code args} ask for help. */
  public static boolean wantsHelp(String[] args) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        return true;
      }
    }
    return false;
  }

  /** The text of {@code --help}: every setting, its variable, default and meaning. */
  public static String help() {
    StringBuilder b = new StringBuilder();
    b.append("bytestream-s3: a ByteStream and Remote Execution API cache server on S3\n\n");
    b.append("Usage: bytestream-s3 [--setting=value ...]\n");
    b.append("Every setting may also come from its environment variable; a flag wins.\n\n");
    for (Setting s : SETTINGS) {
      b.append(String.format("  --%-28s %s%n", s.name(), s.env()));
      b.append(String.format("      %s%n", s.description()));
      b.append(
          String.format(
              "      default: %s%n", s.defaultValue().isEmpty() ? "(none)" : s.defaultValue()));
    }
    return b.toString();
  }

  /**
   * Builds the configuration.
   *
   * @throws IllegalArgumentException naming the flag or variable that is wrong
   */
  public static ServerConfig load(String[] args, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Setting s : SETTINGS) {
      values.put(s.name(), env.getOrDefault(s.env(), s.defaultValue()));
    }
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "' (see --help)");
      }
      String flag = a.substring(2);
      String value;
      int eq = flag.indexOf('=');
      if (eq >= 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("--" + flag + " needs a value");
      }
      if (!values.containsKey(flag)) {
        throw new IllegalArgumentException("unknown setting --" + flag + " (see --help)");
      }
      values.put(flag, value);
    }
    Values v = new Values(values);
    long budget =
        v.optional("memory-budget-bytes")
            .map(x -> v.positiveLong("memory-budget-bytes"))
            .orElse(Runtime.getRuntime().maxMemory() / 4);
    long partSize = v.positiveLong("part-size-bytes");
    if (partSize < 5L * 1024 * 1024) {
      throw new IllegalArgumentException(
          "--part-size-bytes: " + partSize + " (expected: >= 5242880, S3's smallest part)");
    }
    if (v.optional("bucket").isPresent() && budget / 4 < partSize) {
      throw new IllegalArgumentException(
          "--memory-budget-bytes: " + budget + " (expected: >= 4 x --part-size-bytes = "
              + 4 * partSize + "; one part buffer may take at most a quarter of the budget)");
    }
    String checksum = v.get("checksum-mode");
    if (!checksum.equals("when-required") && !checksum.equals("when-supported")) {
      throw new IllegalArgumentException(
          "--checksum-mode: '" + checksum + "' (expected: when-required or when-supported)");
    }
    int port = (int) v.longIn("grpc-port", 0, 65535);
    Optional<Path> tlsCert = v.optional("tls-cert-file").map(Path::of);
    Optional<Path> tlsKey = v.optional("tls-key-file").map(Path::of);
    Optional<Path> clientCa = v.optional("tls-client-ca-file").map(Path::of);
    if (tlsCert.isPresent() != tlsKey.isPresent()) {
      throw new IllegalArgumentException(
          "--tls-cert-file and --tls-key-file go together; set both or neither");
    }
    if (clientCa.isPresent() && tlsCert.isEmpty()) {
      throw new IllegalArgumentException(
          "--tls-client-ca-file needs TLS: set --tls-cert-file and --tls-key-file too");
    }
    Lifetimes lifetimes = Lifetimes.of(v);
    return new ServerConfig(
        v.get("bind-address"),
        port,
        (int) v.longIn("grpc-stream-window-bytes", 64 * 1024, 16L * 1024 * 1024),
        Path.of(v.get("data-dir")),
        budget,
        v.bool("object-overwrite"),
        Duration.ofSeconds(v.longIn("shutdown-grace-seconds", 0, 3600)),
        Duration.ofSeconds(v.positiveLong("upload-idle-timeout-seconds")),
        v.optional("bucket"),
        v.get("prefix"),
        v.optional("region"),
        v.optional("endpoint").map(v.parsed("endpoint", URI::create)),
        v.bool("path-style"),
        v.optional("access-key-id"),
        v.optional("secret-access-key"),
        checksum,
        partSize,
        (int) v.longIn("parts-in-flight", 1, 64),
        (int) v.longIn("upload-record-every-parts", 1, 10_000),
        recordEvery(v),
        v.longIn("read-segment-bytes", 1024 * 1024, 256L * 1024 * 1024),
        (int) v.longIn("read-segments-in-flight", 1, 64),
        (int) v.longIn("http-port", -1, 65535),
        v.optional("http-rules").map(Path::of),
        v.optional("http-ignore-unknown-fields")
            .map(x -> v.bool("http-ignore-unknown-fields"))
            .orElse(!v.bool("http-strict-json")),
        !v.bool("http-strict-json"),
        (int) v.longIn("http-max-message-bytes", 1024, 1L << 30),
        Duration.ofSeconds(v.longIn("http-unary-timeout-seconds", 0, 86400)),
        LogFormat.parse(v.get("log-format")),
        tlsCert,
        tlsKey,
        clientCa,
        v.optional("token-file").map(Path::of),
        instanceNames(v.get("instance-names")),
        v.bool("action-cache-read-only"),
        v.longIn("max-batch-total-size-bytes", 1024, 1L << 30),
        // S3 stores no object larger than 5 TiB, so no blob can be larger whatever is set.
        v.longIn("max-cas-blob-size-bytes", 1, 5L << 40),
        v.longIn("inline-output-limit-bytes", 0, 1L << 30),
        (int) v.longIn("existence-cache-entries", 0, 100_000_000),
        (int) v.longIn("existence-checks-in-flight", 1, 1024),
        Duration.ofSeconds(v.longIn("write-first-message-timeout-seconds", 1, 86400)),
        Duration.ofSeconds(v.longIn("stream-idle-timeout-seconds", 1, 86400)),
        new GrpcConnectionLimits(
            Duration.ofSeconds(v.longIn("grpc-keepalive-time-seconds", 10, 86400)),
            Duration.ofSeconds(v.longIn("grpc-keepalive-timeout-seconds", 1, 3600)),
            Duration.ofSeconds(v.longIn("grpc-max-connection-idle-seconds", 1, 30L * 86400)),
            Duration.ofSeconds(v.longIn("grpc-max-connection-age-seconds", 0, 365L * 86400)),
            Duration.ofSeconds(v.longIn("grpc-max-connection-age-grace-seconds", 0, 86400)),
            (int) v.longIn("grpc-max-concurrent-streams", 1, 1_000_000)),
        lifetimes.existenceCacheTtl(),
        lifetimes.expiryAge(),
        lifetimes.refreshThreshold(),
        v.optional("max-disk-bytes").map(x -> v.positiveLong("max-disk-bytes")).orElse(0L),
        (int) v.longIn("s3-max-attempts", 1, 10),
        Duration.ofSeconds(v.longIn("s3-response-timeout-seconds", 1, 3600)),
        Duration.ofSeconds(v.longIn("readiness-cache-seconds", 0, 3600)),
        Duration.ofSeconds(v.longIn("readiness-timeout-seconds", 1, 3600)),
        v.optional("cache-dir").map(Path::of),
        v.optional("cache-max-bytes").map(x -> v.positiveLong("cache-max-bytes")).orElse(0L),
        Duration.ofSeconds(v.longIn("cache-action-results-max-age-seconds", 0, 86400)));
  }

  /**
   * How long an upload's record may go unwritten while parts arrive: less than the idle timeout, or
   * the idle sweep would take a live upload for an abandoned one.
   */
  private static Duration recordEvery(Values v) {
    long every = v.longIn("upload-record-every-seconds", 0, 86400);
    long idle = v.positiveLong("upload-idle-timeout-seconds");
    if (every >= idle) {
      throw new IllegalArgumentException(
          "--upload-record-every-seconds: " + every + " (expected: < --upload-idle-timeout-seconds "
              + idle + ", or the idle sweep would abort uploads still being written)");
    }
    return Duration.ofSeconds(every);
  }

  /** The existence cache's TTL and the refresh threshold, checked against the expiry age. */
  private record Lifetimes(Duration existenceCacheTtl, Duration expiryAge, Duration refreshThreshold) {
    static Lifetimes of(Values v) {
      Duration ttl = Duration.ofSeconds(v.longIn("existence-cache-ttl-seconds", 1, 365L * 86400));
      Duration age = Duration.ofDays(v.longIn("expiry-age-days", 0, 36500));
      if (age.isZero()) {
        return new Lifetimes(ttl, age, Duration.ZERO);
      }
      Duration threshold =
          v.optional("refresh-threshold-seconds")
              .map(x -> Duration.ofSeconds(v.positiveLong("refresh-threshold-seconds")))
              .orElse(age.dividedBy(2));
      // A blob reported present is touched then: its date is younger than the threshold, and a
      // cached answer is repeated for up to the TTL, so the blob must stay that long and leave
      // the client time to fetch it.
      if (ttl.plus(threshold).compareTo(age) >= 0) {
        throw new IllegalArgumentException(
            "--existence-cache-ttl-seconds (" + ttl.toSeconds() + ") plus the refresh threshold ("
                + threshold.toSeconds() + " s) must be less than --expiry-age-days ("
                + age.toDays() + " days = " + age.toSeconds() + " s): a blob reported present"
                + " could otherwise expire before the answer does");
      }
      return new Lifetimes(ttl, age, threshold);
    }
  }

  /** The allow-list: empty for every instance; an empty item stands for the unnamed instance. */
  private static Optional<java.util.Set<String>> instanceNames(String raw) {
    if (raw.isEmpty()) {
      return Optional.empty();
    }
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    for (String n : raw.split(",", -1)) {
      names.add(n.trim());
    }
    return Optional.of(java.util.Set.copyOf(names));
  }

  /** Typed access to the raw values, with messages that name the setting. */
  private record Values(Map<String, String> raw) {
    String get(String name) {
      return raw.get(name);
    }

    Optional<String> optional(String name) {
      String s = raw.get(name);
      return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    boolean bool(String name) {
      String s = raw.get(name).toLowerCase(Locale.ROOT);
      if (s.equals("true") || s.equals("false")) {
        return Boolean.parseBoolean(s);
      }
      throw new IllegalArgumentException("--" + name + ": '" + s + "' (expected: true or false)");
    }

    long positiveLong(String name) {
      return longIn(name, 1, Long.MAX_VALUE);
    }

    long longIn(String name, long min, long max) {
      String s = raw.get(name);
      long n;
      try {
        n = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + name + ": '" + s + "' is not a number");
      }
      if (n < min || n > max) {
        throw new IllegalArgumentException(
            "--" + name + ": " + n + " (expected: " + min + " to " + max + ")");
      }
      return n;
    }

    <T> Function<String, T> parsed(String name, Function<String, T> parser) {
      return s -> {
        try {
          return parser.apply(s);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("--" + name + ": '" + s + "' " + e.getMessage());
        }
      };
    }
  }
}
