package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One sweep of the upload records of a store: every record unchanged since {@code cutoff} has its
 * multipart upload aborted and is then deleted. The sweep works from the store's own records
 * only, so it never touches an upload the store did not start, whatever the key prefix (even an
 * empty one, sharing the bucket with other applications). Records are listed a page at a time and
 * each page is finished before the next is asked for, a few records at a time, so a sweep holds
 * one page however many uploads there are.
 *
 * <p>Several processes may sweep the same records at once: aborting an upload already gone and
 * deleting a record already deleted both succeed, so the outcome is the same as one sweep.
 */
final class IdleUploadSweep {

  /** Records acted on at once within a page. */
  private static final int RECORDS_IN_FLIGHT = 8;
  /** A record holds a few hash states; anything larger at a record's key is not one of ours. */
  private static final long MAX_RECORD_BYTES = 1L << 20;

  private final S3BlobStore store;
  private final Instant cutoff;
  private final int pageSize;
  private final AtomicInteger aborted = new AtomicInteger();

  IdleUploadSweep(S3BlobStore store, Instant cutoff, int pageSize) {
    this.store = store;
    this.cutoff = cutoff;
    this.pageSize = pageSize;
  }

  /** Runs the sweep; completes with the number of uploads aborted. */
  CompletableFuture<Integer> run() {
    return page(null).thenApply(v -> aborted.get());
  }

  private CompletableFuture<Void> page(String token) {
    String folder = store.keys().recordsFolder();
    return store
        .call(
            "ListObjectsV2",
            folder,
            () ->
                store
                    .client()
                    .listObjectsV2(
                        r ->
                            r.bucket(store.bucket())
                                .prefix(folder)
                                .maxKeys(pageSize)
                                .continuationToken(token)))
        .thenCompose(
            page -> {
              List<S3Object> idle = new ArrayList<>();
              for (S3Object o : page.contents()) {
                if (o.lastModified() != null && o.lastModified().isBefore(cutoff)) {
                  idle.add(o);
                }
              }
              return inTurn(idle, 0)
                  .thenCompose(
                      v ->
                          Boolean.TRUE.equals(page.isTruncated())
                                  && page.nextContinuationToken() != null
                              ? page(page.nextContinuationToken())
                              : CompletableFuture.completedFuture(null));
            });
  }

  /** Sweeps {@code records} from {@code from} on, {@link #RECORDS_IN_FLIGHT} at a time. */
  private CompletableFuture<Void> inTurn(List<S3Object> records, int from) {
    if (from >= records.size()) {
      return CompletableFuture.completedFuture(null);
    }
    int to = Math.min(records.size(), from + RECORDS_IN_FLIGHT);
    List<CompletableFuture<Void>> group = new ArrayList<>();
    for (S3Object o : records.subList(from, to)) {
      group.add(sweep(o.key()));
    }
    return CompletableFuture.allOf(group.toArray(CompletableFuture[]::new))
        .thenCompose(v -> inTurn(records, to));
  }

  /**
   * Reads the record again (a writer may have rewritten it since the listing), and when it is
   * still idle aborts its upload and deletes it. A record that is not ours to read is deleted
   * without an abort: it names no upload we can find.
   */
  private CompletableFuture<Void> sweep(String recordKey) {
    return readRecordIfIdle(recordKey)
        .thenCompose(
            found -> {
              if (found.isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              IdleRecord idle = found.get();
              if (idle.record().isEmpty()) {
                return store.deleteObject(recordKey);
              }
              UploadRecord r = idle.record().get();
              String objectKey;
              try {
                objectKey = store.keys().object(BlobKey.of(r.key()));
              } catch (StorageException | IllegalArgumentException e) {
                return store.deleteObject(recordKey);
              }
              return store
                  .multipart().abortMultipart(objectKey, r.s3UploadId())
                  .thenCompose(v -> store.deleteObject(recordKey))
                  .thenRun(aborted::incrementAndGet);
            });
  }

  /** A record found idle: its content, empty when it does not parse as one. */
  private record IdleRecord(Optional<UploadRecord> record) {}

  /**
   * The record at {@code recordKey} when it is still unchanged since before {@code cutoff}; empty
   * when it is gone or was rewritten since (its upload is in use again).
   */
  private CompletableFuture<Optional<IdleRecord>> readRecordIfIdle(String recordKey) {
    return store
        .client()
        .headObject(r -> r.bucket(store.bucket()).key(recordKey))
        .handle(
            (head, err) -> {
              if (err != null) {
                if (S3Errors.isNotFound(err)) {
                  return Optional.<Instant>empty();
                }
                throw S3Errors.map(err, "HEAD upload record", store.bucket(), recordKey);
              }
              return Optional.ofNullable(head.lastModified());
            })
        .thenCompose(
            modified -> {
              if (modified.isEmpty() || !modified.get().isBefore(cutoff)) {
                return CompletableFuture.completedFuture(Optional.<IdleRecord>empty());
              }
              return fetchRecord(recordKey)
                  .thenApply(
                      found ->
                          found.map(
                              bytes -> {
                                try {
                                  return new IdleRecord(Optional.of(UploadRecord.parse(bytes)));
                                } catch (IllegalArgumentException e) {
                                  return new IdleRecord(Optional.empty());
                                }
                              }));
            });
  }

  /** The bytes of the record object at {@code recordKey}, empty when there is none. */
  private CompletableFuture<Optional<byte[]>> fetchRecord(String recordKey) {
    BoundedBytesTransformer body =
        new BoundedBytesTransformer(
            "upload record s3://" + store.bucket() + "/" + recordKey, MAX_RECORD_BYTES);
    return store
        .client()
        .getObject(r -> r.bucket(store.bucket()).key(recordKey), body)
        .handle(
            (bytes, err) -> {
              if (err != null) {
                if (body.refusal() != null) {
                  throw body.refusal();
                }
                if (S3Errors.isNotFound(err)) {
                  return Optional.empty();
                }
                throw S3Errors.map(err, "read upload record", store.bucket(), recordKey);
              }
              byte[] b = new byte[bytes.remaining()];
              bytes.get(b);
              return Optional.of(b);
            });
  }
}
