package dev.bytestreams3.storage;

/**
 * How far an upload has come.
 *
 * @param committedSize bytes held durably, from which a writer resumes; the full size when
 *     {@code complete}
 * @param complete whether the blob is published
 * @param known whether the store has any record of this upload or its blob
 */
public record UploadStatus(long committedSize, boolean complete, boolean known) {

  /** The status of an upload the store has never seen. */
  public static UploadStatus unknown() {
    return new UploadStatus(0, false, false);
  }
}
