package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.UploadSpec;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads and writes the upload records of one store. A write names the record's ETag as the writer
 * last saw it ({@code If-Match}), or that it saw none ({@code If-None-Match: *}), so of two writers
 * of one upload only one can go on writing the record; the other is told another writer holds the
 * upload. What the store honours is probed once, before the first conditional write.
 */
final class UploadRecords {

  private static final Logger log = LoggerFactory.getLogger(UploadRecords.class);

  private final S3BlobStore store;
  private CompletableFuture<ConditionalWrites> conditions;

  UploadRecords(S3BlobStore store) {
    this.store = store;
  }

  /** The record of {@code spec}'s upload with its ETag, empty when there is none. */
  CompletableFuture<Optional<StoredRecord>> read(UploadSpec spec) {
    String recordKey = store.keys().record(spec);
    return store
        .client()
        .getObject(
            r -> r.bucket(store.bucket()).key(recordKey).overrideConfiguration(o -> naming(o, spec)),
            AsyncResponseTransformer.toBytes())
        .handle(
            (bytes, err) -> {
              if (err != null) {
                if (S3Errors.isNotFound(err)) {
                  return Optional.<StoredRecord>empty();
                }
                throw S3Errors.map(err, "read upload record", store.bucket(), recordKey);
              }
              UploadRecord r;
              try {
                r = UploadRecord.parse(bytes.asByteArrayUnsafe());
              } catch (IllegalArgumentException e) {
                log.error("upload record s3://{}/{} of {} does not parse", store.bucket(), recordKey,
                    spec.key(), e);
                throw new StorageException(
                    Reason.INTERNAL, "the upload record of " + spec.key() + " is corrupt", e);
              }
              if (!r.key().equals(spec.key().value()) || !r.uploadId().equals(spec.uploadId())) {
                log.error("upload record s3://{}/{} belongs to {}, not {}", store.bucket(),
                    recordKey, r.key(), spec.key());
                throw new StorageException(
                    Reason.INTERNAL, "the upload record of " + spec.key() + " belongs to another upload");
              }
              return Optional.of(new StoredRecord(r, bytes.response().eTag()));
            });
  }

  /**
   * Writes {@code record} over the one with {@code expectedETag}, or where none is when that is
   * empty, and completes with the new ETag. Fails with {@code CONFLICT} when another writer wrote
   * the record meanwhile (or removed it) on a store that honours conditions.
   */
  CompletableFuture<String> write(UploadSpec spec, UploadRecord record, Optional<String> expectedETag) {
    return conditions()
        .thenCompose(
            c -> {
              String recordKey = store.keys().record(spec);
              byte[] bytes = record.toBytes();
              PutObjectRequest.Builder put =
                  PutObjectRequest.builder()
                      .bucket(store.bucket())
                      .key(recordKey)
                      .contentLength((long) bytes.length)
                      .overrideConfiguration(o -> naming(o, spec));
              if (expectedETag.isPresent() && c.ifMatch()) {
                put.ifMatch(c.ifMatchValue(expectedETag.get()));
              } else if (expectedETag.isEmpty() && c.ifNoneMatch()) {
                put.ifNoneMatch("*");
              }
              return store
                  .client()
                  .putObject(put.build(), AsyncRequestBody.fromBytes(bytes))
                  .handle(
                      (r, err) -> {
                        if (err == null) {
                          return r.eTag();
                        }
                        if (lostCondition(err)) {
                          throw new StorageException(
                              Reason.CONFLICT,
                              "another writer holds the upload of " + spec.key()
                                  + "; resume from the committed size QueryWriteStatus returns",
                              err);
                        }
                        throw S3Errors.map(err, "write upload record", store.bucket(), recordKey);
                      });
            });
  }

  CompletableFuture<Void> delete(UploadSpec spec) {
    String recordKey = store.keys().record(spec);
    return store
        .call(
            "delete upload record",
            recordKey,
            () ->
                store
                    .client()
                    .deleteObject(
                        r ->
                            r.bucket(store.bucket())
                                .key(recordKey)
                                .overrideConfiguration(o -> naming(o, spec))))
        .thenApply(r -> null);
  }

  /** Names the blob a record request serves, for the interceptors that count requests by it. */
  private static void naming(AwsRequestOverrideConfiguration.Builder o, UploadSpec spec) {
    o.putExecutionAttribute(S3RequestAttributes.BLOB_KEY, spec.key().value());
  }

  /** What the store honours; probed once (again after a probe S3 did not answer). */
  synchronized CompletableFuture<ConditionalWrites> conditions() {
    if (conditions == null
        || (conditions.isDone() && conditions.isCompletedExceptionally())) {
      conditions = probe();
    }
    return conditions;
  }

  /**
   * Writes a scratch object four times: created with {@code If-None-Match: *}, then again (which
   * must fail), with {@code If-Match} on a wrong ETag (which must fail) and on its own ETag,
   * quoted and, if that fails, bare (which must succeed); then deletes it.
   */
  private CompletableFuture<ConditionalWrites> probe() {
    String key = store.keys().recordsFolder() + "probe-" + UUID.randomUUID();
    CompletableFuture<ConditionalWrites> found =
        put(key, "*", null)
            .thenCompose(
                created -> {
                  if (created.refused()) {
                    return done(ConditionalWrites.NONE);
                  }
                  return put(key, "*", null)
                      .thenCompose(
                          again -> {
                            boolean ifNoneMatch = again.refused();
                            return put(key, null, "\"00000000000000000000000000000000\"")
                                .thenCompose(
                                    wrong -> {
                                      if (!wrong.refused()) {
                                        return done(new ConditionalWrites(ifNoneMatch, false, false));
                                      }
                                      String eTag = wrong.eTagBefore(again, created);
                                      return put(key, null, "\"" + UploadRecord.unquoted(eTag) + "\"")
                                          .thenCompose(
                                              quoted -> {
                                                if (!quoted.refused()) {
                                                  return done(new ConditionalWrites(ifNoneMatch, true, false));
                                                }
                                                return put(key, null, UploadRecord.unquoted(eTag))
                                                    .thenApply(
                                                        bare ->
                                                            new ConditionalWrites(
                                                                ifNoneMatch, !bare.refused(), !bare.refused()));
                                              });
                                    });
                          });
                });
    return found
        .thenCompose(
            c ->
                store
                    .call("delete probe", key, () -> store.client().deleteObject(r -> r.bucket(store.bucket()).key(key)))
                    .handle((v, err) -> c))
        .whenComplete(
            (c, err) -> {
              if (err == null) {
                log.info("S3 store s3://{}/{}: {}", store.bucket(), store.keys().prefix(), c.describe());
              } else {
                log.warn("S3 store s3://{}: could not probe conditional writes: {}", store.bucket(),
                    err.getMessage());
              }
            });
  }

  /** One probe write: refused by its condition, or written with this ETag. */
  private record Outcome(boolean refused, String eTag) {
    /** The object's ETag as last written, searching back from this write. */
    String eTagBefore(Outcome... earlier) {
      if (eTag != null) {
        return eTag;
      }
      for (Outcome o : earlier) {
        if (o.eTag != null) {
          return o.eTag;
        }
      }
      return "";
    }
  }

  private CompletableFuture<Outcome> put(String key, String ifNoneMatch, String ifMatch) {
    byte[] body = UUID.randomUUID().toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    PutObjectRequest.Builder put =
        PutObjectRequest.builder().bucket(store.bucket()).key(key).contentLength((long) body.length);
    if (ifNoneMatch != null) {
      put.ifNoneMatch(ifNoneMatch);
    }
    if (ifMatch != null) {
      put.ifMatch(ifMatch);
    }
    return store
        .client()
        .putObject(put.build(), AsyncRequestBody.fromBytes(body))
        .handle(
            (r, err) -> {
              if (err == null) {
                return new Outcome(false, r.eTag());
              }
              if (lostCondition(err) || refusedHeader(err)) {
                return new Outcome(true, null);
              }
              throw S3Errors.map(err, "probe conditional PutObject", store.bucket(), key);
            });
  }

  private static <T> CompletableFuture<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  /** Whether {@code err} says a write's condition did not hold (or its object is gone). */
  static boolean lostCondition(Throwable err) {
    Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    return t instanceof S3Exception e
        && (e.statusCode() == 412 || e.statusCode() == 409 || e.statusCode() == 404);
  }

  /** Whether {@code err} says the store does not take a conditional header at all. */
  private static boolean refusedHeader(Throwable err) {
    Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    return t instanceof S3Exception e && (e.statusCode() == 501 || e.statusCode() == 400);
  }
}
