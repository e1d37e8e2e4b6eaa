package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.UploadSpec;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.Part;

/** The listing of committed parts and the aborting of the store's multipart uploads. */
final class MultipartUploads {

  private static final Logger log = LoggerFactory.getLogger(MultipartUploads.class);

  private final S3BlobStore store;
  private final AtomicBoolean toldUnlistedChecksums = new AtomicBoolean();

  MultipartUploads(S3BlobStore store) {
    this.store = store;
  }

  /** Aborts the multipart upload (gone already is fine) and deletes the record of {@code spec}. */
  CompletableFuture<Void> abort(String objectKey, UploadSpec spec, String s3UploadId) {
    return abortMultipart(objectKey, s3UploadId).thenCompose(v -> store.records().delete(spec));
  }

  /**
   * The parts of {@code record}'s upload that count as committed among those S3 lists ({@code
   * listed}); see {@link UploadRecord#committedParts}. The first time the store lists no checksum
   * for a part whose checksum the record holds, says once that this store binds parts by ETags
   * alone.
   */
  int committedParts(UploadRecord record, Map<Integer, Part> listed) {
    if (record.checksumsUnlisted(listed) && !toldUnlistedChecksums.getAndSet(true)) {
      log.info(
          "S3 store s3://{}: ListParts reports no part checksums; resumed parts are bound by their"
              + " ETags alone",
          store.bucket());
    }
    return record.committedParts(listed);
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
