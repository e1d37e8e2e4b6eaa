package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The opening of the store's uploads, fresh or resumed from the parts their record names. */
final class UploadOpener {

  private final S3BlobStore store;

  UploadOpener(S3BlobStore store) {
    this.store = store;
  }

  /** How far the upload of {@code spec} got: its committed parts, or the blob when it is done. */
  CompletableFuture<UploadStatus> status(UploadSpec spec) {
    String objectKey;
    try {
      objectKey = store.keys().object(spec.key());
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    return store.records().read(spec)
        .thenCompose(
            record -> {
              if (record.isEmpty()) {
                return CompletableFuture.completedFuture(Optional.<UploadStatus>empty());
              }
              UploadRecord r = record.get().record();
              if (!resumable(spec)) {
                return CompletableFuture.completedFuture(
                    Optional.of(new UploadStatus(0, false, true)));
              }
              return store.multipart().listParts(objectKey, r)
                  .thenApply(
                      parts -> {
                        long committed =
                            store.multipart().committedParts(r, parts) * r.partSizeBytes();
                        return Optional.of(new UploadStatus(committed, false, true));
                      })
                  .exceptionally(
                      err -> {
                        if (S3Errors.isNotFound(err)) {
                          // The multipart upload is gone (finished or aborted); the record is stale.
                          return Optional.empty();
                        }
                        throw S3Errors.map(err, "ListParts", store.bucket(), objectKey);
                      });
            })
        .thenCompose(
            status -> {
              if (status.isPresent()) {
                return CompletableFuture.completedFuture(status.get());
              }
              return store.reads().sizeOf(objectKey)
                  .thenApply(
                      s ->
                          s.isPresent()
                              ? new UploadStatus(s.getAsLong(), true, true)
                              : UploadStatus.unknown());
            });
  }

  /** Whether an upload of {@code spec} can continue from committed parts. */
  static boolean resumable(UploadSpec spec) {
    return spec.check().map(c -> c.function().resumable()).orElse(true);
  }

  /** Opens an upload of {@code spec}, resumed from its committed parts where it can be. */
  CompletableFuture<Upload> open(UploadSpec spec) {
    String objectKey;
    try {
      objectKey = store.keys().object(spec.key());
      S3Upload.checkBufferable(store, spec);
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Void> allowed =
        spec.overwrite()
            ? CompletableFuture.completedFuture(null)
            : store.reads().sizeOf(objectKey)
                .thenAccept(
                    s -> {
                      if (s.isPresent()) {
                        throw alreadyExists(spec);
                      }
                    });
    if (spec.expectedSize() >= 0 && spec.expectedSize() < S3StoreConfig.MIN_PART_BYTES) {
      // Records are written only when a part is cut, and no part is smaller than 5 MiB before
      // the last: an upload of a smaller blob never has a record, so none is looked for.
      return allowed.thenApply(v -> S3Upload.fresh(store, spec, objectKey));
    }
    return allowed
        .thenCompose(v -> store.records().read(spec))
        .thenCompose(
            record -> {
              if (record.isEmpty()) {
                return CompletableFuture.completedFuture(S3Upload.fresh(store, spec, objectKey));
              }
              UploadRecord r = record.get().record();
              if (!resumable(spec)) {
                // Committed parts could not be verified: start again from the first byte.
                return store.multipart().abort(objectKey, spec, r.s3UploadId())
                    .thenApply(x -> S3Upload.fresh(store, spec, objectKey));
              }
              return store.multipart().listParts(objectKey, r)
                  .<Upload>thenApply(
                      parts -> S3Upload.resumed(store, spec, objectKey, record.get(), parts))
                  .exceptionallyCompose(
                      err -> {
                        if (S3Errors.isNotFound(err)) {
                          return store.records().delete(spec)
                              .thenApply(x -> S3Upload.fresh(store, spec, objectKey));
                        }
                        return CompletableFuture.failedFuture(err);
                      });
            });
  }

  /** The refusal of an upload of {@code spec} that may not replace the blob there. */
  static StorageException alreadyExists(UploadSpec spec) {
    return new StorageException(
        Reason.ALREADY_EXISTS, spec.key() + " already exists and may not be replaced");
  }
}
