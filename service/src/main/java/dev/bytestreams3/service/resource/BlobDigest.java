package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.Digest;
import dev.bytestreams3.storage.HashFunction;
import java.util.HexFormat;

/**
 * A validated content digest: its hash function, lower-case hex hash and size.
 *
 * @param function the hash function the digest was made with
 * @param hash lower-case hex, {@code function.digestLength() * 2} digits
 * @param size the blob's size in bytes, {@code >= 0}
 */
public record BlobDigest(HashFunction function, String hash, long size) {

  public BlobDigest {
    requireNonNull(function, "function");
    requireNonNull(hash, "hash");
  }

  /** Whether this is the digest of the empty blob, which every CAS holds. */
  public boolean isEmptyBlob() {
    return size == 0 && hash.equals(HexFormat.of().formatHex(function.newHasher().digest()));
  }

  /** The digest bytes. */
  public byte[] hashBytes() {
    return HexFormat.of().parseHex(hash);
  }

  /** The wire form. */
  public Digest toProto() {
    return Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
  }

  @Override
  public String toString() {
    return function.id() + ":" + hash + "/" + size;
  }
}
