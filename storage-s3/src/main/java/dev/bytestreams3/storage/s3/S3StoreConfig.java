package dev.bytestreams3.storage.s3;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * The settings of an {@link S3BlobStore}: where the bucket is, how to reach it, and how large its
 * requests and buffers are. Immutable; build one with {@link #builder()}. {@link #toString()}
 * never shows the secret key.
 */
public final class S3StoreConfig {

  /** S3's smallest part, except for the last part of an upload. */
  public static final long MIN_PART_BYTES = 5L * 1024 * 1024;

  /** Which request checksums the S3 client sends and which response checksums it validates. */
  public enum ChecksumMode {
    /**
     * Only where an operation demands one. Works with S3-compatible stores that reject the
     * {@code aws-chunked} trailing checksums newer SDKs send by default.
     */
    WHEN_REQUIRED,
    /** Wherever the operation supports one: the SDK's own default, for AWS S3. */
    WHEN_SUPPORTED
  }

  private final String bucket;
  private final String keyPrefix;
  private final Optional<String> region;
  private final Optional<URI> endpointOverride;
  private final boolean pathStyleAccess;
  private final Optional<String> accessKeyId;
  private final Optional<String> secretAccessKey;
  private final ChecksumMode checksumMode;
  private final long partSizeBytes;
  private final int maxPartsInFlight;
  private final int readSegmentBytes;
  private final int maxSegmentsInFlight;
  private final int maxConcurrency;
  private final Duration requestTimeout;
  private final List<ExecutionInterceptor> interceptors;
  private final int listPartsPageSize;
  private final Duration refreshThreshold;
  private final int refreshesInFlight;
  private final java.time.Clock clock;
  private final int maxAttempts;
  private final Duration responseTimeout;
  private final int recordEveryParts;
  private final Duration recordEvery;

  private S3StoreConfig(Builder b) {
    this.bucket = requireNonNull(b.bucket, "bucket");
    if (bucket.isEmpty()) {
      throw new IllegalArgumentException("bucket is empty");
    }
    this.keyPrefix = requireNonNull(b.keyPrefix, "keyPrefix");
    this.region = b.region;
    this.endpointOverride = b.endpointOverride;
    this.pathStyleAccess = b.pathStyleAccess;
    this.accessKeyId = b.accessKeyId;
    this.secretAccessKey = b.secretAccessKey;
    this.checksumMode = requireNonNull(b.checksumMode, "checksumMode");
    if (b.partSizeBytes < MIN_PART_BYTES) {
      throw new IllegalArgumentException(
          "partSizeBytes: " + b.partSizeBytes + " (expected: >= " + MIN_PART_BYTES + ")");
    }
    this.partSizeBytes = b.partSizeBytes;
    this.maxPartsInFlight = positive("maxPartsInFlight", b.maxPartsInFlight);
    this.readSegmentBytes = positive("readSegmentBytes", b.readSegmentBytes);
    this.maxSegmentsInFlight = positive("maxSegmentsInFlight", b.maxSegmentsInFlight);
    this.maxConcurrency = positive("maxConcurrency", b.maxConcurrency);
    this.requestTimeout = requireNonNull(b.requestTimeout, "requestTimeout");
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout: " + requestTimeout + " (expected: > 0)");
    }
    this.interceptors = List.copyOf(b.interceptors);
    if (b.listPartsPageSize < 1 || b.listPartsPageSize > 1000) {
      throw new IllegalArgumentException(
          "listPartsPageSize: " + b.listPartsPageSize + " (expected: 1..1000)");
    }
    this.listPartsPageSize = b.listPartsPageSize;
    this.refreshThreshold = requireNonNull(b.refreshThreshold, "refreshThreshold");
    if (refreshThreshold.isNegative()) {
      throw new IllegalArgumentException(
          "refreshThreshold: " + refreshThreshold + " (expected: >= 0; 0 turns refreshing off)");
    }
    this.refreshesInFlight = positive("refreshesInFlight", b.refreshesInFlight);
    this.clock = requireNonNull(b.clock, "clock");
    if (b.maxAttempts < 1 || b.maxAttempts > 10) {
      throw new IllegalArgumentException("maxAttempts: " + b.maxAttempts + " (expected: 1..10)");
    }
    this.maxAttempts = b.maxAttempts;
    this.responseTimeout = requireNonNull(b.responseTimeout, "responseTimeout");
    if (responseTimeout.isNegative() || responseTimeout.isZero()) {
      throw new IllegalArgumentException(
          "responseTimeout: " + responseTimeout + " (expected: > 0)");
    }
    if (b.recordEveryParts < 1 || b.recordEveryParts > S3Upload.MAX_PARTS) {
      throw new IllegalArgumentException(
          "recordEveryParts: " + b.recordEveryParts + " (expected: 1.." + S3Upload.MAX_PARTS + ")");
    }
    this.recordEveryParts = b.recordEveryParts;
    this.recordEvery = requireNonNull(b.recordEvery, "recordEvery");
    if (recordEvery.isNegative()) {
      throw new IllegalArgumentException("recordEvery: " + recordEvery + " (expected: >= 0)");
    }
  }

  private static int positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
    return value;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these settings, to change some of them. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.bucket = bucket;
    b.keyPrefix = keyPrefix;
    b.region = region;
    b.endpointOverride = endpointOverride;
    b.pathStyleAccess = pathStyleAccess;
    b.accessKeyId = accessKeyId;
    b.secretAccessKey = secretAccessKey;
    b.checksumMode = checksumMode;
    b.partSizeBytes = partSizeBytes;
    b.maxPartsInFlight = maxPartsInFlight;
    b.readSegmentBytes = readSegmentBytes;
    b.maxSegmentsInFlight = maxSegmentsInFlight;
    b.maxConcurrency = maxConcurrency;
    b.requestTimeout = requestTimeout;
    b.interceptors = interceptors;
    b.listPartsPageSize = listPartsPageSize;
    b.refreshThreshold = refreshThreshold;
    b.refreshesInFlight = refreshesInFlight;
    b.clock = clock;
    b.maxAttempts = maxAttempts;
    b.responseTimeout = responseTimeout;
    b.recordEveryParts = recordEveryParts;
    b.recordEvery = recordEvery;
    return b;
  }

  public String bucket() {
    return bucket;
  }

  /** Prepended to every object key, e.g. {@code cache/}; may be empty. */
  public String keyPrefix() {
    return keyPrefix;
  }

  /** The region; empty for the SDK's default region chain. */
  public Optional<String> region() {
    return region;
  }

  /** The endpoint of an S3-compatible store; empty for AWS S3. */
  public Optional<URI> endpointOverride() {
    return endpointOverride;
  }

  public boolean pathStyleAccess() {
    return pathStyleAccess;
  }

  /** The static access key id; empty for the SDK's default credentials chain. */
  public Optional<String> accessKeyId() {
    return accessKeyId;
  }

  Optional<String> secretAccessKey() {
    return secretAccessKey;
  }

  public ChecksumMode checksumMode() {
    return checksumMode;
  }

  /** The smallest part size of a multipart upload; raised per upload to fit 10,000 parts. */
  public long partSizeBytes() {
    return partSizeBytes;
  }

  /** Parts of one upload being sent at once. */
  public int maxPartsInFlight() {
    return maxPartsInFlight;
  }

  /** The size of one ranged GET of a read. */
  public int readSegmentBytes() {
    return readSegmentBytes;
  }

  /** Ranged GETs of one read in flight. */
  public int maxSegmentsInFlight() {
    return maxSegmentsInFlight;
  }

  /** Connections the HTTP client opens to S3 at most. */
  public int maxConcurrency() {
    return maxConcurrency;
  }

  /** How long one S3 call, retries included, may take. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Interceptors that see every S3 request, e.g. for metrics. */
  public List<ExecutionInterceptor> interceptors() {
    return interceptors;
  }

  /** Parts asked for per ListParts page: S3 returns at most 1,000. */
  public int listPartsPageSize() {
    return listPartsPageSize;
  }

  /**
   * A blob in use whose LastModified is at least this old is copied onto itself, so that a bucket
   * expiry rule does not remove it; zero turns refreshing off (a bucket without such a rule).
   */
  public Duration refreshThreshold() {
    return refreshThreshold;
  }

  /** Refreshes (a HEAD and maybe a CopyObject each) running at once, across the store. */
  public int refreshesInFlight() {
    return refreshesInFlight;
  }

  /** The clock refresh decisions are made by; the system's in production. */
  public java.time.Clock clock() {
    return clock;
  }

  /**
   * Attempts per S3 request, the first included: a request that fails with a retryable error (a
   * 5xx, throttling, a reset or timed-out connection) is sent again, after the SDK's exponential
   * backoff with jitter, until this many attempts have failed.
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * How long one attempt may wait for S3 to send anything (after the request was sent, and
   * between pieces of a response) before it counts as failed; bounds how long a black-holed S3
   * holds a request.
   */
  public Duration responseTimeout() {
    return responseTimeout;
  }

  /**
   * How many parts an upload's record may fall behind before it is written again: an upload
   * records the parts S3 holds (and that were hashed) at its first part, then once this many more
   * are ready, or once {@link #recordEvery()} has passed since its last record write. A crashed
   * writer's successor re-sends the parts after the last record.
   */
  public int recordEveryParts() {
    return recordEveryParts;
  }

  /**
   * How old an upload's record may grow before the next part ready rewrites it, however few parts
   * that is (see {@link #recordEveryParts()}); zero records every part.
   */
  public Duration recordEvery() {
    return recordEvery;
  }

  @Override
  public String toString() {
    return "S3StoreConfig{bucket=" + bucket + ", keyPrefix=" + keyPrefix
        + ", region=" + region.orElse("(default)")
        + ", endpoint=" + endpointOverride.map(URI::toString).orElse("(AWS)")
        + ", pathStyleAccess=" + pathStyleAccess
        + ", credentials=" + accessKeyId.map(id -> "static " + id + " / ****").orElse("(default chain)")
        + ", checksumMode=" + checksumMode
        + ", partSizeBytes=" + partSizeBytes + ", maxPartsInFlight=" + maxPartsInFlight
        + ", readSegmentBytes=" + readSegmentBytes + ", maxSegmentsInFlight=" + maxSegmentsInFlight
        + ", maxConcurrency=" + maxConcurrency + ", requestTimeout=" + requestTimeout
        + ", refreshThreshold=" + refreshThreshold + ", maxAttempts=" + maxAttempts
        + ", responseTimeout=" + responseTimeout + ", recordEveryParts=" + recordEveryParts
        + ", recordEvery=" + recordEvery + "}";
  }

  /** Builds an {@link S3StoreConfig}; every setting but the bucket has a working default. */
  public static final class Builder {
    private String bucket;
    private String keyPrefix = "";
    private Optional<String> region = Optional.empty();
    private Optional<URI> endpointOverride = Optional.empty();
    private boolean pathStyleAccess;
    private Optional<String> accessKeyId = Optional.empty();
    private Optional<String> secretAccessKey = Optional.empty();
    private ChecksumMode checksumMode = ChecksumMode.WHEN_REQUIRED;
    private long partSizeBytes = 8L * 1024 * 1024;
    private int maxPartsInFlight = 4;
    private int readSegmentBytes = 8 * 1024 * 1024;
    private int maxSegmentsInFlight = 4;
    private int maxConcurrency = 128;
    private Duration requestTimeout = Duration.ofMinutes(5);
    private List<ExecutionInterceptor> interceptors = List.of();
    private int listPartsPageSize = 1000;
    private Duration refreshThreshold = Duration.ZERO;
    private int refreshesInFlight = 16;
    private java.time.Clock clock = java.time.Clock.systemUTC();
    private int maxAttempts = 3;
    private Duration responseTimeout = Duration.ofSeconds(10);
    private int recordEveryParts = 16;
    private Duration recordEvery = Duration.ofSeconds(10);

    private Builder() {}

    public Builder bucket(String bucket) {
      this.bucket = requireNonNull(bucket, "bucket");
      return this;
    }

    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = requireNonNull(keyPrefix, "keyPrefix");
      return this;
    }

    public Builder region(String region) {
      this.region = Optional.of(region);
      return this;
    }

    public Builder endpointOverride(URI endpoint) {
      this.endpointOverride = Optional.of(endpoint);
      return this;
    }

    public Builder pathStyleAccess(boolean pathStyleAccess) {
      this.pathStyleAccess = pathStyleAccess;
      return this;
    }

    /** Static credentials instead of the SDK's default provider chain. */
    public Builder credentials(String accessKeyId, String secretAccessKey) {
      this.accessKeyId = Optional.of(requireNonNull(accessKeyId, "accessKeyId"));
      this.secretAccessKey = Optional.of(requireNonNull(secretAccessKey, "secretAccessKey"));
      return this;
    }

    public Builder checksumMode(ChecksumMode checksumMode) {
      this.checksumMode = requireNonNull(checksumMode, "checksumMode");
      return this;
    }

    public Builder partSizeBytes(long partSizeBytes) {
      this.partSizeBytes = partSizeBytes;
      return this;
    }

    public Builder maxPartsInFlight(int maxPartsInFlight) {
      this.maxPartsInFlight = maxPartsInFlight;
      return this;
    }

    public Builder readSegmentBytes(int readSegmentBytes) {
      this.readSegmentBytes = readSegmentBytes;
      return this;
    }

    public Builder maxSegmentsInFlight(int maxSegmentsInFlight) {
      this.maxSegmentsInFlight = maxSegmentsInFlight;
      return this;
    }

    public Builder maxConcurrency(int maxConcurrency) {
      this.maxConcurrency = maxConcurrency;
      return this;
    }

    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = requireNonNull(requestTimeout, "requestTimeout");
      return this;
    }

    public Builder interceptors(List<ExecutionInterceptor> interceptors) {
      this.interceptors = List.copyOf(interceptors);
      return this;
    }

    /** Parts per ListParts page (1..1000); smaller pages only serve tests of paging. */
    public Builder listPartsPageSize(int listPartsPageSize) {
      this.listPartsPageSize = listPartsPageSize;
      return this;
    }

    /** See {@link S3StoreConfig#refreshThreshold()}. */
    public Builder refreshThreshold(Duration refreshThreshold) {
      this.refreshThreshold = requireNonNull(refreshThreshold, "refreshThreshold");
      return this;
    }

    public Builder refreshesInFlight(int refreshesInFlight) {
      this.refreshesInFlight = refreshesInFlight;
      return this;
    }

    /** The clock refresh decisions are made by; tests pass their own. */
    public Builder clock(java.time.Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** Attempts per request, the first included (1..10; 1 turns retries off). */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    public Builder responseTimeout(Duration responseTimeout) {
      this.responseTimeout = requireNonNull(responseTimeout, "responseTimeout");
      return this;
    }

    /** Parts an upload's record may fall behind (1..10,000; 1 records every part). */
    public Builder recordEveryParts(int recordEveryParts) {
      this.recordEveryParts = recordEveryParts;
      return this;
    }

    /** How old an upload's record may grow before the next ready part rewrites it. */
    public Builder recordEvery(Duration recordEvery) {
      this.recordEvery = requireNonNull(recordEvery, "recordEvery");
      return this;
    }

    public S3StoreConfig build() {
      return new S3StoreConfig(this);
    }
  }
}
