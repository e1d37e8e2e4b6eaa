package dev.bytestreams3.benchmarks;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;

/** Random content and the ByteStream names of content-addressed blobs. */
final class Blobs {

  private final Random random;

  Blobs(long seed) {
    this.random = new Random(seed);
  }

  byte[] random(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return b;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** The name a client writes {@code data} to as a CAS blob. */
  static String uploadName(byte[] data) {
    return "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
  }

  /** The name a client reads {@code data} back from. */
  static String readName(byte[] data) {
    return "blobs/" + sha256(data) + "/" + data.length;
  }

  /** The store key of {@code data} as a CAS blob (the server's key layout, SHA-256, no instance). */
  static String casKey(byte[] data) {
    return "cas/sha256/" + sha256(data);
  }
}
