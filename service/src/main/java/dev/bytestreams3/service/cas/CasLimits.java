package dev.bytestreams3.service.cas;

/**
 * The size limits of the CAS, as advertised in the capabilities.
 *
 * @param maxBatchTotalSizeBytes largest total blob size of one batch call
 * @param maxBlobSizeBytes largest blob accepted; 0 for no limit
 */
public record CasLimits(long maxBatchTotalSizeBytes, long maxBlobSizeBytes) {

  public CasLimits {
    if (maxBatchTotalSizeBytes <= 0) {
      throw new IllegalArgumentException(
          "maxBatchTotalSizeBytes: " + maxBatchTotalSizeBytes + " (expected: > 0)");
    }
    if (maxBlobSizeBytes < 0) {
      throw new IllegalArgumentException(
          "maxBlobSizeBytes: " + maxBlobSizeBytes + " (expected: >= 0)");
    }
  }

  /**
   * Checks a blob's declared size.
   *
   * @throws IllegalArgumentException when it is above the limit
   */
  public void checkBlobSize(long size, Object what) {
    if (maxBlobSizeBytes > 0 && size > maxBlobSizeBytes) {
      throw new IllegalArgumentException(
          what + " is " + size + " bytes (expected: <= max_cas_blob_size_bytes "
              + maxBlobSizeBytes + ")");
    }
  }

  /**
   * Checks the total size of a batch call.
   *
   * @throws IllegalArgumentException when it is above the limit
   */
  public void checkBatch(String call, long totalBytes) {
    if (totalBytes > maxBatchTotalSizeBytes) {
      throw new IllegalArgumentException(
          call + " carries " + totalBytes + " blob bytes (expected: <= max_batch_total_size_bytes "
              + maxBatchTotalSizeBytes + "); send the larger blobs through ByteStream");
    }
  }
}
