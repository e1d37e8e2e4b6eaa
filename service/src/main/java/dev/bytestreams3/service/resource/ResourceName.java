package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.HashFunction;
import java.util.Optional;

/**
 * A parsed ByteStream resource name: either a content-addressed blob of the Remote Execution API
 * (to read, or to upload under a client-chosen upload id) or a plain named object.
 *
 * @param kind which of the three forms the name has
 * @param instance the instance name, possibly empty, for blob names; empty for objects
 * @param uploadId the client's upload id for uploads; empty otherwise
 * @param compressor the compressor of a {@code compressed-blobs} name, lower-case; empty for
 *     uncompressed names
 * @param function the digest function for blob names
 * @param hash the lower-case hex hash for blob names
 * @param size the blob's size in bytes, or -1 for objects
 * @param objectName the object's name for objects; empty otherwise
 */
public record ResourceName(
    Kind kind,
    String instance,
    String uploadId,
    Optional<String> compressor,
    HashFunction function,
    String hash,
    long size,
    String objectName) {

  /** The three forms of resource name. */
  public enum Kind {
    /** {@code [instance/]blobs/...}: a blob to read. */
    BLOB,
    /** {@code [instance/]uploads/uuid/blobs/...}: a blob to write. */
    BLOB_UPLOAD,
    /** Any other valid name: a plain object, read and written under that name. */
    OBJECT
  }

  public ResourceName {
    requireNonNull(kind, "kind");
    requireNonNull(instance, "instance");
    requireNonNull(uploadId, "uploadId");
    requireNonNull(compressor, "compressor");
    requireNonNull(hash, "hash");
    requireNonNull(objectName, "objectName");
  }

  /** Whether this names a content-addressed blob (to read or upload). */
  public boolean isBlob() {
    return kind != Kind.OBJECT;
  }
}
