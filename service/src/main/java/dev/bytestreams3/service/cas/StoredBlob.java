package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;

/**
 * A content-addressed blob as a digest names it: its key in the store and the size the digest
 * declares. A blob at the key with another size is not this blob.
 */
public record StoredBlob(BlobKey key, long sizeBytes) {

  public StoredBlob {
    requireNonNull(key, "key");
  }
}
