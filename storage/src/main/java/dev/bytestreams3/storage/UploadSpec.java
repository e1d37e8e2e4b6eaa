package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What an upload writes and how it is checked.
 *
 * @param key where the blob is published
 * @param uploadId names this upload among all uploads to {@code key}; two opens with the same
 *     spec, in any process, address the same upload and so resume each other
 * @param expectedSize the size the blob must have, or -1 when unknown; with a known size, a
 *     finish at any other size fails with {@code SIZE_MISMATCH}
 * @param check the digest the content must have, verified before the blob is published
 * @param overwrite whether the upload may replace a blob already at {@code key}; without it an
 *     upload to an existing key fails with {@code ALREADY_EXISTS}
 */
public record UploadSpec(
    BlobKey key, String uploadId, long expectedSize, Optional<ContentCheck> check, boolean overwrite) {

  public UploadSpec {
    requireNonNull(key, "key");
    requireNonNull(uploadId, "uploadId");
    requireNonNull(check, "check");
    if (uploadId.isEmpty()) {
      throw new IllegalArgumentException("uploadId is empty");
    }
    if (expectedSize < -1) {
      throw new IllegalArgumentException("expectedSize: " + expectedSize + " (expected: >= -1)");
    }
  }

  /** Whether the content is verified against a digest before it is published. */
  public boolean verified() {
    return check.isPresent();
  }
}
