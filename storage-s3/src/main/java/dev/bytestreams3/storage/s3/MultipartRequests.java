package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The requests that build one object's multipart upload: create it, and send a part, answering
 * the part as Complete must name it (the ETag S3 gave it, and the checksum S3 answered). An upload
 * with SHA-256 part checksums is created declaring them, and each part carries the SHA-256 of its
 * bytes in {@code x-amz-checksum-sha256}, computed here (on the JDK's common pool, apart from the
 * blob's hashing) before the part is sent (a header, not an {@code aws-chunked} trailer, so stores that refuse trailers take it); S3
 * refuses a part whose bytes do not match it. An upload created before part checksums (its record
 * says so) goes on as it began: with CRC-32 trailers where checksums are on, or none.
 */
final class MultipartRequests {

  private final S3BlobStore store;
  private final String objectKey;
  private final boolean checksums;
  private final boolean sha256Parts;

  /** Requests for {@code objectKey}'s upload, with SHA-256 part checksums when {@code sha256Parts}. */
  MultipartRequests(S3BlobStore store, String objectKey, boolean sha256Parts) {
    this.store = store;
    this.objectKey = objectKey;
    this.sha256Parts = sha256Parts;
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
                          if (sha256Parts) {
                            r.checksumAlgorithm(ChecksumAlgorithm.SHA256);
                          } else if (checksums) {
                            r.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                          }
                        }))
        .thenApply(r -> r.uploadId());
  }

  /**
   * Sends {@code body} ({@code size} bytes, the same as {@code bytes}) as part {@code number} of
   * {@code uploadId}.
   */
  CompletableFuture<CompletedPart> uploadPart(
      String uploadId, int number, ReleasableBody body, ByteBuffer[] bytes, long size) {
    if (!sha256Parts) {
      return uploadPart(uploadId, number, body, size, null);
    }
    // Not on the hash threads: a part goes to S3 while the blob's hash is still behind it.
    return CompletableFuture.supplyAsync(() -> PartChecksum.sha256(bytes))
        .thenCompose(sum -> uploadPart(uploadId, number, body, size, sum));
  }

  private CompletableFuture<CompletedPart> uploadPart(
      String uploadId, int number, ReleasableBody body, long size, String sha256) {
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
                          if (sha256 != null) {
                            r.checksumSHA256(sha256);
                          } else if (checksums) {
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
                    .checksumSHA256(r.checksumSHA256())
                    .build());
  }
}
