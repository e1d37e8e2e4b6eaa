package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.UploadSpec;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.Part;

/** The listing of committed parts and the aborting of the store's multipart uploads. */
final class MultipartUploads {

  private final S3BlobStore store;

  MultipartUploads(S3BlobStore store) {
    this.store = store;
  }

  /** Aborts the multipart upload (gone already is fine) and deletes the record of {@code spec}. */
  CompletableFuture<Void> abort(String objectKey, UploadSpec spec, String s3UploadId) {
    return abortMultipart(objectKey, s3UploadId).thenCompose(v -> store.records().delete(spec));
  }

  /** The ETags of {@code parts}, by part number. */
  static Map<Integer, String> eTags(Map<Integer, Part> parts) {
    Map<Integer, String> eTags = new TreeMap<>();
    parts.forEach((n, p) -> eTags.put(n, p.eTag()));
    return eTags;
  }

  /** Aborts one multipart upload; one already gone is fine. */
  CompletableFuture<Void> abortMultipart(String objectKey, String s3UploadId) {
    return store
        .client()
        .abortMultipartUpload(r -> r.bucket(store.bucket()).key(objectKey).uploadId(s3UploadId))
        .handle(
            (r, err) -> {
              if (err != null && !S3Errors.isNotFound(err)) {
                throw S3Errors.map(err, "AbortMultipartUpload", store.bucket(), objectKey);
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
    return store.call(
            "ListParts",
            objectKey,
            () ->
                store.client().listParts(
                    r -> {
                      r.bucket(store.bucket())
                          .key(objectKey)
                          .uploadId(record.s3UploadId())
                          .maxParts(store.config().listPartsPageSize());
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
}
