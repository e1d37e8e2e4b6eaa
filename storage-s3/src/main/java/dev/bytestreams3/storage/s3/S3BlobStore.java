package dev.bytestreams3.storage.s3;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 store: blobs are objects, uploads are multipart uploads whose committed size S3 itself
 * reports (ListParts), reads are ranged GETs. Every call is asynchronous on the SDK's Netty client;
 * no caller thread ever waits on S3.
 */
public final class S3BlobStore implements BlobStore {

  private static final int EXISTENCE_CHECKS_IN_FLIGHT = 16;

  private final SdkEventLoopGroup eventLoops;
  private final S3AsyncClient client;
  private final S3StoreConfig config;
  private final MemoryBudget budget;
  private final S3Keys keys;
  private final HashThreads hashThreads;

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
    return new S3BlobStore(config, budget, requireNonNull(hashThreads, "hashThreads"));
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
    String k;
    try {
      k = keys.object(key);
    } catch (StorageException e) {
      return failed(e);
    }
    return sizeOf(k);
  }

  private CompletableFuture<OptionalLong> sizeOf(String objectKey) {
    return client
        .headObject(r -> r.bucket(bucket()).key(objectKey))
        .handle(
            (r, err) -> {
              if (err == null) {
                return OptionalLong.of(r.contentLength());
              }
              if (S3Errors.isNotFound(err)) {
                return OptionalLong.empty();
              }
              throw S3Errors.map(err, "HEAD", bucket(), objectKey);
            });
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    Permits permits = new Permits(EXISTENCE_CHECKS_IN_FLIGHT);
    List<BlobKey> all = List.copyOf(keys);
    List<CompletableFuture<OptionalLong>> sizes = new ArrayList<>();
    for (BlobKey k : all) {
      sizes.add(
          permits.acquire().thenCompose(v -> size(k)).whenComplete((s, err) -> permits.release()));
    }
    return CompletableFuture.allOf(sizes.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Set<BlobKey> found = new LinkedHashSet<>();
              for (int i = 0; i < all.size(); i++) {
                if (sizes.get(i).join().isPresent()) {
                  found.add(all.get(i));
                }
              }
              return found;
            });
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    String objectKey;
    try {
      objectKey = keys.object(spec.key());
    } catch (StorageException e) {
      return failed(e);
    }
    return readRecord(spec)
        .thenCompose(
            record -> {
              if (record.isEmpty()) {
                return CompletableFuture.completedFuture(Optional.<UploadStatus>empty());
              }
              UploadRecord r = record.get();
              if (!resumable(spec)) {
                return CompletableFuture.completedFuture(
                    Optional.of(new UploadStatus(0, false, true)));
              }
              return listParts(objectKey, r)
                  .thenApply(
                      parts -> {
                        long committed = r.committedParts(List.copyOf(parts.keySet())) * r.partSizeBytes();
                        return Optional.of(new UploadStatus(committed, false, true));
                      })
                  .exceptionally(
                      err -> {
                        if (S3Errors.isNotFound(err)) {
                          // The multipart upload is gone (finished or aborted); the record is stale.
                          return Optional.empty();
                        }
                        throw S3Errors.map(err, "ListParts", bucket(), objectKey);
                      });
            })
        .thenCompose(
            status -> {
              if (status.isPresent()) {
                return CompletableFuture.completedFuture(status.get());
              }
              return sizeOf(objectKey)
                  .thenApply(
                      s -> s.isPresent() ? new UploadStatus(s.getAsLong(), true, true) : UploadStatus.unknown());
            });
  }

  /** Whether an upload of {@code spec} can continue from committed parts. */
  static boolean resumable(UploadSpec spec) {
    return spec.check().map(c -> c.function().resumable()).orElse(true);
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    String objectKey;
    try {
      objectKey = keys.object(spec.key());
    } catch (StorageException e) {
      return failed(e);
    }
    CompletableFuture<Void> allowed =
        spec.overwrite()
            ? CompletableFuture.completedFuture(null)
            : sizeOf(objectKey)
                .thenAccept(
                    s -> {
                      if (s.isPresent()) {
                        throw alreadyExists(spec);
                      }
                    });
    if (spec.expectedSize() >= 0 && spec.expectedSize() < S3StoreConfig.MIN_PART_BYTES) {
      // Records are written only when a part is cut, and no part is smaller than 5 MiB before
      // the last: an upload of a smaller blob never has a record, so none is looked for.
      return allowed.thenApply(v -> S3Upload.fresh(this, spec, objectKey));
    }
    return allowed
        .thenCompose(v -> readRecord(spec))
        .thenCompose(
            record -> {
              if (record.isEmpty()) {
                return CompletableFuture.completedFuture(S3Upload.fresh(this, spec, objectKey));
              }
              UploadRecord r = record.get();
              if (!resumable(spec)) {
                // Committed parts could not be verified: start again from the first byte.
                return abortUpload(objectKey, spec, r.s3UploadId())
                    .thenApply(x -> S3Upload.fresh(this, spec, objectKey));
              }
              return listParts(objectKey, r)
                  .<Upload>thenApply(parts -> S3Upload.resumed(this, spec, objectKey, r, parts))
                  .exceptionallyCompose(
                      err -> {
                        if (S3Errors.isNotFound(err)) {
                          return deleteRecord(spec)
                              .thenApply(x -> S3Upload.fresh(this, spec, objectKey));
                        }
                        return failed(err);
                      });
            });
  }

  static StorageException alreadyExists(UploadSpec spec) {
    return new StorageException(
        Reason.ALREADY_EXISTS, spec.key() + " already exists and may not be replaced");
  }

  /** Reads the record of {@code spec}'s upload, empty when there is none. */
  CompletableFuture<Optional<UploadRecord>> readRecord(UploadSpec spec) {
    String recordKey = keys.record(spec);
    return fetchRecord(recordKey)
        .thenApply(
            found ->
                found.map(
                    bytes -> {
                      UploadRecord r = UploadRecord.parse(bytes);
                      if (!r.key().equals(spec.key().value())
                          || !r.uploadId().equals(spec.uploadId())) {
                        throw new StorageException(
                            Reason.INTERNAL,
                            "upload record s3://" + bucket() + "/" + recordKey + " belongs to "
                                + r.key());
                      }
                      return r;
                    }));
  }

  CompletableFuture<Void> writeRecord(UploadSpec spec, UploadRecord record) {
    String recordKey = keys.record(spec);
    byte[] bytes = record.toBytes();
    return call(
            "write upload record",
            recordKey,
            () ->
                client.putObject(
                    r -> r.bucket(bucket()).key(recordKey).contentLength((long) bytes.length),
                    AsyncRequestBody.fromBytes(bytes)))
        .thenApply(r -> null);
  }

  CompletableFuture<Void> deleteRecord(UploadSpec spec) {
    String recordKey = keys.record(spec);
    return call(
            "delete upload record",
            recordKey,
            () -> client.deleteObject(r -> r.bucket(bucket()).key(recordKey)))
        .thenApply(r -> null);
  }

  /** Aborts the multipart upload (gone already is fine) and deletes the record of {@code spec}. */
  CompletableFuture<Void> abortUpload(String objectKey, UploadSpec spec, String s3UploadId) {
    return abortMultipart(objectKey, s3UploadId).thenCompose(v -> deleteRecord(spec));
  }

  private CompletableFuture<Void> abortMultipart(String objectKey, String s3UploadId) {
    return client
        .abortMultipartUpload(r -> r.bucket(bucket()).key(objectKey).uploadId(s3UploadId))
        .handle(
            (r, err) -> {
              if (err != null && !S3Errors.isNotFound(err)) {
                throw S3Errors.map(err, "AbortMultipartUpload", bucket(), objectKey);
              }
              return null;
            });
  }

  /**
   * Lists the full-size parts S3 holds complete for {@code record}'s upload, by part number, every
   * page of them.
   */
  CompletableFuture<TreeMap<Integer, Part>> listParts(String objectKey, UploadRecord record) {
    TreeMap<Integer, Part> parts = new TreeMap<>();
    return listPartsFrom(objectKey, record, null, parts).thenApply(v -> parts);
  }

  private CompletableFuture<Void> listPartsFrom(
      String objectKey, UploadRecord record, Integer marker, TreeMap<Integer, Part> into) {
    return call(
            "ListParts",
            objectKey,
            () ->
                client.listParts(
                    r -> {
                      r.bucket(bucket())
                          .key(objectKey)
                          .uploadId(record.s3UploadId())
                          .maxParts(config.listPartsPageSize());
                      if (marker != null) {
                        r.partNumberMarker(marker);
                      }
                    }))
        .thenCompose(
            page -> {
              for (Part p : page.parts()) {
                if (p.size() != null && p.size() == record.partSizeBytes()) {
                  into.put(p.partNumber(), p);
                }
              }
              if (Boolean.TRUE.equals(page.isTruncated()) && page.nextPartNumberMarker() != null) {
                return listPartsFrom(objectKey, record, page.nextPartNumberMarker(), into);
              }
              return CompletableFuture.completedFuture(null);
            });
  }

  /**
   * Opens a reader pinned to the object the first HEAD finds: every ranged GET carries that
   * HEAD's ETag in {@code If-Match}, so an object replaced during the read ends it with {@link
   * Reason#CONFLICT} instead of handing out bytes of two objects.
   */
  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    String objectKey;
    try {
      objectKey = keys.object(key);
    } catch (StorageException e) {
      return failed(e);
    }
    return client
        .headObject(r -> r.bucket(bucket()).key(objectKey))
        .handle(
            (head, err) -> {
              if (err != null) {
                if (S3Errors.isNotFound(err)) {
                  throw new StorageException(Reason.NOT_FOUND, key + " not found");
                }
                throw S3Errors.map(err, "HEAD", bucket(), objectKey);
              }
              long size = head.contentLength();
              if (offset < 0 || offset > size) {
                throw new StorageException(
                    Reason.OUT_OF_RANGE,
                    "offset " + offset + " is outside " + key + " of " + size + " bytes");
              }
              // Compared as a remainder, so that a limit near Long.MAX_VALUE cannot overflow the end.
              long end = limit <= 0 || limit > size - offset ? size : offset + limit;
              return new S3BlobReader(
                  this, objectKey, head.eTag(), size, offset, end,
                  config.readSegmentBytes(), config.maxSegmentsInFlight());
            });
  }

  /**
   * GETs {@code length} bytes of {@code objectKey} from {@code start}, only from the object whose
   * ETag is {@code eTag} when it is not null.
   */
  CompletableFuture<ChunkedBuffer> getRange(String objectKey, String eTag, long start, int length) {
    return call(
        "GET range of",
        objectKey,
        () ->
            client.getObject(
                r -> r.bucket(bucket()).key(objectKey).ifMatch(eTag)
                    .range("bytes=" + start + "-" + (start + length - 1)),
                new SegmentTransformer(length)));
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    String objectKey;
    try {
      objectKey = keys.object(key);
    } catch (StorageException e) {
      return failed(e);
    }
    return putObject(objectKey, data);
  }

  CompletableFuture<Void> putObject(String objectKey, ByteBuffer... data) {
    long length = 0;
    ByteBuffer[] views = new ByteBuffer[data.length];
    for (int i = 0; i < data.length; i++) {
      views[i] = data[i].duplicate();
      length += views[i].remaining();
    }
    long contentLength = length;
    ReleasableBody content = new ReleasableBody(views);
    CompletableFuture<Void> put =
        call(
                "PutObject",
                objectKey,
                () ->
                    client.putObject(
                        r -> r.bucket(bucket()).key(objectKey).contentLength(contentLength),
                        content))
            .thenApply(r -> null);
    put.whenComplete((v, err) -> content.release());
    return put;
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key) {
    String objectKey;
    try {
      objectKey = keys.object(key);
    } catch (StorageException e) {
      return failed(e);
    }
    return call(
            "GET",
            objectKey,
            () ->
                client.getObject(
                    r -> r.bucket(bucket()).key(objectKey), AsyncResponseTransformer.toBytes()))
        .thenApply(b -> ByteBuffer.wrap(b.asByteArrayUnsafe()));
  }

  /**
   * Aborts the multipart uploads under this store's prefix started more than {@code idleFor} ago
   * whose record has not changed for as long, and deletes records idle that long. Completes with
   * the number of uploads aborted.
   */
  public CompletableFuture<Integer> abortIdleUploads(Duration idleFor) {
    Instant cutoff = Instant.now().minus(idleFor);
    List<MultipartUpload> old = new ArrayList<>();
    List<S3Object> records = new ArrayList<>();
    return listUploads(null, null, cutoff, old)
        .thenCompose(v -> listRecords(null, records))
        .thenCompose(
            v -> {
              // Uploads whose record changed recently are still being written: keep them.
              List<CompletableFuture<?>> work = new ArrayList<>();
              Set<String> active = java.util.concurrent.ConcurrentHashMap.newKeySet();
              for (S3Object o : records) {
                if (o.lastModified().isBefore(cutoff)) {
                  work.add(deleteObject(o.key()));
                } else {
                  work.add(readRecordAt(o.key()).thenAccept(r -> r.ifPresent(x -> active.add(x.s3UploadId()))));
                }
              }
              return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new))
                  .thenApply(x -> active);
            })
        .thenCompose(
            active -> {
              List<CompletableFuture<Void>> aborts = new ArrayList<>();
              for (MultipartUpload u : old) {
                if (!active.contains(u.uploadId())) {
                  aborts.add(abortMultipart(u.key(), u.uploadId()));
                }
              }
              return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new))
                  .thenApply(x -> aborts.size());
            });
  }

  private CompletableFuture<Void> listUploads(
      String keyMarker, String uploadIdMarker, Instant cutoff, List<MultipartUpload> into) {
    return call(
            "ListMultipartUploads",
            keys.prefix(),
            () ->
                client.listMultipartUploads(
                    r -> r.bucket(bucket()).prefix(keys.prefix()).keyMarker(keyMarker).uploadIdMarker(uploadIdMarker)))
        .thenCompose(
            page -> {
              for (MultipartUpload u : page.uploads()) {
                if (u.initiated() != null && u.initiated().isBefore(cutoff)) {
                  into.add(u);
                }
              }
              if (Boolean.TRUE.equals(page.isTruncated())) {
                return listUploads(page.nextKeyMarker(), page.nextUploadIdMarker(), cutoff, into);
              }
              return CompletableFuture.completedFuture(null);
            });
  }

  private CompletableFuture<Void> listRecords(String token, List<S3Object> into) {
    return call(
            "ListObjectsV2",
            keys.recordsFolder(),
            () ->
                client.listObjectsV2(
                    r -> r.bucket(bucket()).prefix(keys.recordsFolder()).continuationToken(token)))
        .thenCompose(
            page -> {
              into.addAll(page.contents());
              if (Boolean.TRUE.equals(page.isTruncated())) {
                return listRecords(page.nextContinuationToken(), into);
              }
              return CompletableFuture.completedFuture(null);
            });
  }

  private CompletableFuture<Optional<UploadRecord>> readRecordAt(String recordKey) {
    return fetchRecord(recordKey)
        .thenApply(
            found -> {
              try {
                return found.map(UploadRecord::parse);
              } catch (IllegalArgumentException e) {
                return Optional.empty();
              }
            });
  }

  /** The bytes of the record object at {@code recordKey}, empty when there is none. */
  private CompletableFuture<Optional<byte[]>> fetchRecord(String recordKey) {
    return client
        .getObject(r -> r.bucket(bucket()).key(recordKey), AsyncResponseTransformer.toBytes())
        .handle(
            (bytes, err) -> {
              if (err != null) {
                if (S3Errors.isNotFound(err)) {
                  return Optional.empty();
                }
                throw S3Errors.map(err, "read upload record", bucket(), recordKey);
              }
              return Optional.of(bytes.asByteArrayUnsafe());
            });
  }

  private CompletableFuture<Void> deleteObject(String key) {
    return call("DELETE", key, () -> client.deleteObject(r -> r.bucket(bucket()).key(key)))
        .thenApply(r -> null);
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
