package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.UploadSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * Whether a writer that wants to discard an upload it resumed but never recorded may do so. The
 * writer that holds the upload shows it is alive by its part and record writes: while S3's clock
 * says the newest of them is younger than {@link S3StoreConfig#uploadLease}, the upload is its
 * and the newcomer is refused ({@code CONFLICT}, with the seconds to wait); after that its holder
 * counts as gone, and the newcomer takes the record over with a write conditional on the ETag it
 * read, so that of two newcomers only one wins.
 */
final class UploadLease {

  private final S3BlobStore store;

  UploadLease(S3BlobStore store) {
    this.store = store;
  }

  /**
   * Takes the upload of {@code spec} from the writer of {@code opened}, the record as this writer
   * read it when it opened the upload. Completes with true once this writer took the record over
   * (it is now its to delete), false when the record is gone; fails with {@code CONFLICT} while
   * another writer holds it.
   */
  CompletableFuture<Boolean> takeOver(UploadSpec spec, String objectKey, StoredRecord opened) {
    String recordKey = store.keys().record(spec);
    Duration lease = store.config().uploadLease();
    return store.client()
        .headObject(r -> r.bucket(store.bucket()).key(recordKey))
        .handle(
            (head, err) -> {
              if (err == null) {
                return Optional.of(head);
              }
              if (S3Errors.isNotFound(err)) {
                return Optional.<HeadObjectResponse>empty();
              }
              throw S3Errors.map(err, "HEAD upload record", store.bucket(), recordKey);
            })
        .thenCompose(
            head -> {
              if (head.isEmpty()) {
                // Finished or discarded meanwhile: nothing is held.
                return CompletableFuture.completedFuture(false);
              }
              if (!UploadRecord.sameETag(head.get().eTag(), opened.eTag())) {
                // Written since this writer read it: its holder is alive.
                throw held(spec, lease);
              }
              if (opened.record().writer().isEmpty()) {
                // Its holder let go of it (suspended, or its stream ended).
                return released(spec, opened);
              }
              Instant now = serverTime(head.get());
              return latestPart(objectKey, opened.record())
                  .thenCompose(
                      part -> {
                        Instant last = head.get().lastModified();
                        if (part.isPresent() && part.get().isAfter(last)) {
                          last = part.get();
                        }
                        // S3 gives both in whole seconds: a write in this second is 0 s old.
                        Duration idle = Duration.between(last, now);
                        if (idle.isNegative()) {
                          idle = Duration.ZERO;
                        }
                        if (idle.compareTo(lease) < 0) {
                          throw held(spec, lease.minus(idle));
                        }
                        return released(spec, opened);
                      });
            });
  }

  /** The time of the newest full part S3 holds for {@code record}'s upload, if any. */
  private CompletableFuture<Optional<Instant>> latestPart(String objectKey, UploadRecord record) {
    return store.multipart().listParts(objectKey, record)
        .thenApply(
            parts ->
                parts.values().stream()
                    .map(Part::lastModified)
                    .filter(t -> t != null)
                    .max(Instant::compareTo))
        .exceptionally(
            err -> {
              if (S3Errors.isNotFound(err)) {
                return Optional.empty();
              }
              throw S3Errors.map(err, "ListParts", store.bucket(), objectKey);
            });
  }

  /**
   * Replaces the record of a gone holder with one naming no parts, on condition that it is still
   * the one read; only the newcomer whose write succeeds goes on.
   */
  private CompletableFuture<Boolean> released(UploadSpec spec, StoredRecord opened) {
    UploadRecord old = opened.record();
    UploadRecord none =
        new UploadRecord(
            old.key(), old.uploadId(), old.s3UploadId(), old.partSizeBytes(),
            UUID.randomUUID().toString(), old.hashFunction(), old.sha256Parts(), new TreeMap<>(),
            new TreeMap<>(), new TreeMap<>());
    return store.records().write(spec, none, Optional.of(opened.eTag()))
        .thenApply(eTag -> true)
        .exceptionally(
            err -> {
              StorageException e = StorageException.from(err);
              if (e.reason() == Reason.CONFLICT) {
                throw held(spec, store.config().uploadLease());
              }
              throw e;
            });
  }

  /** S3's own time of {@code head}'s answer, so that no clock of ours is compared with S3's. */
  private Instant serverTime(HeadObjectResponse head) {
    Optional<String> date = head.sdkHttpResponse().firstMatchingHeader("Date");
    if (date.isPresent()) {
      try {
        return ZonedDateTime.parse(date.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      } catch (DateTimeParseException e) {
        // Fall back to this server's clock.
      }
    }
    return store.config().clock().instant();
  }

  private static StorageException held(UploadSpec spec, Duration wait) {
    long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
    return new StorageException(
        Reason.CONFLICT,
        "another writer holds the upload of " + spec.key() + "; retry after " + seconds + " s");
  }
}
