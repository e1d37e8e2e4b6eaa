package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/** The SHA-256 additional checksum of one part, base64 as {@code x-amz-checksum-sha256} carries it. */
final class PartChecksum {

  private PartChecksum() {}

  /** The checksum of the bytes of {@code body}, in order; the buffers' positions are not moved. */
  static String sha256(ByteBuffer[] body) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    for (ByteBuffer b : body) {
      sha256.update(b.duplicate());
    }
    return Base64.getEncoder().encodeToString(sha256.digest());
  }
}
