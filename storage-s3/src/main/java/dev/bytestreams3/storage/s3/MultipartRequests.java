package dev.bytestreams3.storage.s3;

import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The requests that build one object's multipart upload: create it, and send a part, answering
 * the part as Complete must name it (the ETag S3 gave it, and its CRC-32 where checksums are on).
 */
final class MultipartRequests {

  private final S3BlobStore store;
  private final String objectKey;
  private final boolean checksums;

  MultipartRequests(S3BlobStore store, String objectKey) {
    this.store = store;
    this.objectKey = objectKey;
    this.checksums = store.config().checksumMode() == S3StoreConfig.ChecksumMode.WHEN_SUPPORTED;
  }

  /** Starts a multipart upload; completes with its UploadId. */
  CompletableFuture<String> create() {
    return store
        .call(
            "CreateMultipartUpload",
            objectKey,
            () ->
                store
                    .client()
                    .createMultipartUpload(
                        r -> {
                          r.bucket(store.bucket()).key(objectKey);
                          if (checksums) {
                            r.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                          }
                        }))
        .thenApply(r -> r.uploadId());
  }

  /** Sends {@code body} ({@code size} bytes) as part {@code number} of {@code uploadId}. */
  CompletableFuture<CompletedPart> uploadPart(
      String uploadId, int number, ReleasableBody body, long size) {
    return store
        .call(
            "UploadPart " + number + " of",
            objectKey,
            () ->
                store
                    .client()
                    .uploadPart(
                        r -> {
                          r.bucket(store.bucket())
                              .key(objectKey)
                              .uploadId(uploadId)
                              .partNumber(number)
                              .contentLength(size);
                          if (checksums) {
                            r.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                          }
                        },
                        body))
        .thenApply(
            r ->
                CompletedPart.builder()
                    .partNumber(number)
                    .eTag(r.eTag())
                    .checksumCRC32(r.checksumCRC32())
                    .build());
  }
}
