package dev.bytestreams3.storage.s3;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;

/**
 * The S3 store: blobs are objects, uploads are multipart uploads whose committed size S3 itself
 * reports (ListParts), reads are ranged GETs. Every call is asynchronous on the SDK's Netty client;
 * no caller thread ever waits on S3.
 */
public final class S3BlobStore implements BlobStore {

  /** Upload records listed per request by a sweep; S3 answers at most 1,000. */
  private static final int SWEEP_PAGE_SIZE = 1000;

  private final SdkEventLoopGroup eventLoops;
  private final S3AsyncClient client;
  private final S3StoreConfig config;
  private final MemoryBudget budget;
  private final S3Keys keys;
  private final HashThreads hashThreads;
  private final UploadRecords records;
  /** The sweep of idle uploads running now, if one is. */
  private final AtomicReference<CompletableFuture<Integer>> sweeping = new AtomicReference<>();
  private final dev.bytestreams3.storage.LifecycleCounters lifecycle =
      new dev.bytestreams3.storage.LifecycleCounters();
  private final S3Refresher refresher;
  private final S3Reads reads;
  private final MultipartUploads multipart;
  private final ObjectPuts puts;
  private final UploadOpener opener;

  private S3BlobStore(S3StoreConfig config, MemoryBudget budget, HashThreads hashThreads) {
    this.hashThreads = hashThreads;
    this.eventLoops = SdkEventLoopGroup.builder().build();
    try {
      this.client = newClient(config, eventLoops);
    } catch (RuntimeException e) {
      eventLoops.eventLoopGroup().shutdownGracefully(0, 5, TimeUnit.SECONDS);
      hashThreads.close();
      throw e;
    }
    this.config = config;
    this.budget = budget;
    this.keys = new S3Keys(config.keyPrefix());
    this.records = new UploadRecords(this);
    this.refresher = new S3Refresher(this, lifecycle);
    this.reads = new S3Reads(this);
    this.multipart = new MultipartUploads(this);
    this.puts = new ObjectPuts(this);
    this.opener = new UploadOpener(this);
  }

  /** Opens a store with {@code config}, reserving every buffer from {@code budget}. */
  public static S3BlobStore create(S3StoreConfig config, MemoryBudget budget) {
    return create(config, budget, new HashThreads());
  }

  /**
   * Opens a store as {@link #create(S3StoreConfig, MemoryBudget)} does, hashing uploads on
   * {@code hashThreads}, which it closes with itself.
   */
  static S3BlobStore create(S3StoreConfig config, MemoryBudget budget, HashThreads hashThreads) {
    requireNonNull(config, "config");
    requireNonNull(budget, "budget");
    S3BlobStore store = new S3BlobStore(config, budget, requireNonNull(hashThreads, "hashThreads"));
    // Learn now, not at the first upload, what conditions the store honours; the log says.
    store.records.conditions();
    return store;
  }

  private static S3AsyncClient newClient(S3StoreConfig c, SdkEventLoopGroup eventLoops) {
    boolean required = c.checksumMode() == S3StoreConfig.ChecksumMode.WHEN_REQUIRED;
    S3AsyncClientBuilder b =
        S3AsyncClient.builder()
            .httpClientBuilder(
                NettyNioAsyncHttpClient.builder()
                    .eventLoopGroup(eventLoops)
                    .maxConcurrency(c.maxConcurrency())
                    .connectionAcquisitionTimeout(c.requestTimeout())
                    .readTimeout(c.responseTimeout())
                    .writeTimeout(c.responseTimeout()))
            .forcePathStyle(c.pathStyleAccess())
            .requestChecksumCalculation(
                required
                    ? RequestChecksumCalculation.WHEN_REQUIRED
                    : RequestChecksumCalculation.WHEN_SUPPORTED)
            .responseChecksumValidation(
                required
                    ? ResponseChecksumValidation.WHEN_REQUIRED
                    : ResponseChecksumValidation.WHEN_SUPPORTED)
            .overrideConfiguration(
                o ->
                    o.apiCallTimeout(c.requestTimeout())
                        .retryStrategy(retryStrategy(c))
                        .executionInterceptors(c.interceptors()));
    if (c.region().isPresent()) {
      b.region(Region.of(c.region().get()));
    } else if (c.endpointOverride().isPresent()) {
      // S3-compatible stores rarely care about the region, but the SDK must sign for one.
      b.region(Region.US_EAST_1);
    }
    c.endpointOverride().ifPresent(b::endpointOverride);
    if (c.accessKeyId().isPresent()) {
      b.credentialsProvider(
          StaticCredentialsProvider.create(
              AwsBasicCredentials.create(c.accessKeyId().get(), c.secretAccessKey().orElse(""))));
    }
    return b.build();
  }

  /**
   * The SDK's standard retry strategy for AWS services (retries 5xx, throttling, resets and
   * timeouts; exponential backoff with full jitter from 100 ms, 1 s for throttling, at most 20
   * s) with {@code maxAttempts} attempts. Its circuit breaker is off: the attempts are already
   * capped, and a breaker drained by an outage would leave requests unretried for a while after
   * S3 is back, when ordinary 5xx answers still need their retry.
   */
  private static RetryStrategy retryStrategy(S3StoreConfig c) {
    return AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(c.maxAttempts())
        .circuitBreakerEnabled(false)
        .build();
  }

  S3AsyncClient client() {
    return client;
  }

  S3StoreConfig config() {
    return config;
  }

  MemoryBudget budget() {
    return budget;
  }

  /** Where uploads hash their parts. */
  HashThreads hashThreads() {
    return hashThreads;
  }

  S3Keys keys() {
    return keys;
  }

  /** The upload records of this store. */
  UploadRecords records() {
    return records;
  }

  /** {@code s3://bucket/prefix}: where this store's blobs are. */
  @Override
  public String describe() {
    return "s3://" + config.bucket() + "/" + config.keyPrefix();
  }

  String bucket() {
    return config.bucket();
  }

  /** Runs an S3 call, mapping its failure; a call that throws before it starts fails the same way. */
  <T> CompletableFuture<T> call(String what, String key, Supplier<CompletableFuture<T>> request) {
    CompletableFuture<T> f;
    try {
      f = request.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(S3Errors.map(e, what, bucket(), key));
    }
    CompletableFuture<T> mapped = new CompletableFuture<>();
    f.whenComplete(
        (v, err) -> {
          if (err != null) {
            mapped.completeExceptionally(S3Errors.map(err, what, bucket(), key));
          } else {
            mapped.complete(v);
          }
        });
    // Cancelling the result cancels the request.
    mapped.whenComplete(
        (v, err) -> {
          if (mapped.isCancelled()) {
            f.cancel(true);
          }
        });
    return mapped;
  }

  private static <T> CompletableFuture<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return reads.size(key);
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return reads.findExisting(keys);
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    return opener.status(spec);
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    return opener.open(spec);
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return reads.openReader(key, offset, limit);
  }

  /** The reads of this store. */
  S3Reads reads() {
    return reads;
  }

  /** The listing and aborting of this store's multipart uploads. */
  MultipartUploads multipart() {
    return multipart;
  }

  /** The single-request writes of whole objects of this store. */
  ObjectPuts puts() {
    return puts;
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    String objectKey;
    try {
      objectKey = keys.object(key);
    } catch (StorageException e) {
      return failed(e);
    }
    return puts.put(objectKey, false, data);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    return reads.get(key, maxBytes);
  }

  /**
   * Aborts the multipart uploads this store started whose upload record has not changed for
   * {@code idleFor}, and deletes those records; only uploads named by the store's own records are
   * touched, never another application's. A call while a sweep runs joins that sweep rather than
   * start another. Completes with the number of uploads aborted.
   */
  public CompletableFuture<Integer> abortIdleUploads(Duration idleFor) {
    return abortIdleUploads(idleFor, SWEEP_PAGE_SIZE);
  }

  /** As {@link #abortIdleUploads(Duration)}, listing {@code pageSize} records per request. */
  CompletableFuture<Integer> abortIdleUploads(Duration idleFor, int pageSize) {
    CompletableFuture<Integer> mine = new CompletableFuture<>();
    CompletableFuture<Integer> running = sweeping.compareAndExchange(null, mine);
    if (running != null) {
      return running.copy();
    }
    CompletableFuture<Integer> sweep;
    try {
      sweep = new IdleUploadSweep(this, Instant.now().minus(idleFor), pageSize).run();
    } catch (RuntimeException e) {
      sweep = failed(e);
    }
    sweep.whenComplete(
        (n, err) -> {
          // Cleared first, so that whoever the result wakes may start the next sweep.
          sweeping.set(null);
          if (err != null) {
            mine.completeExceptionally(err);
          } else {
            mine.complete(n);
          }
        });
    return mine.copy();
  }

  CompletableFuture<Void> deleteObject(String key) {
    return call("DELETE", key, () -> client.deleteObject(r -> r.bucket(bucket()).key(key)))
        .thenApply(r -> null);
  }

  /** Resets the blob's date when it is past the refresh threshold (see {@link S3Refresher}). */
  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    try {
      return refresher.touch(keys.object(key));
    } catch (StorageException e) {
      return failed(e);
    }
  }

  @Override
  public dev.bytestreams3.storage.LifecycleCounters lifecycle() {
    return lifecycle;
  }

  @Override
  public void close() {
    hashThreads.close();
    client.close();
    // The client has closed its connections, so nothing is left to run: skip Netty's two-second
    // quiet period, which the SDK's own event loops would wait out on every close.
    eventLoops.eventLoopGroup().shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Override
  public String toString() {
    return "S3BlobStore{" + config + "}";
  }
}
