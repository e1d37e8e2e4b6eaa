package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.bouncycastle.crypto.CryptoServicePurpose;

/**
 * A running SHA-256 state, and its encoding: the one Bouncy Castle's {@code SHA256Digest} writes
 * and reads, which upload records hold. Every implementation here saves and restores through it,
 * so a state saved by one restores in any other, including servers that only had Bouncy Castle.
 *
 * <p>The encoding is, big-endian: the bytes of an incomplete word (4, only the first {@code n}
 * meaningful), {@code n} (int), the count of bytes hashed (long), H1 to H8 (8 ints), the number
 * of whole words waiting for a full block {@code w} (int), those {@code w} words, and a byte
 * naming Bouncy Castle's {@link CryptoServicePurpose}.
 */
final class Sha256State {

  static final int BLOCK_BYTES = 64;

  private static final int WORDS_OFFSET = 52;
  private static final int FIXED_BYTES = WORDS_OFFSET + 1;

  private final int[] h;
  private final long byteCount;
  private final byte[] pending;

  /**
   * A state after {@code byteCount} bytes: the hash words {@code h} after every complete block,
   * and the {@code pending} bytes of the incomplete block.
   */
  Sha256State(int[] h, long byteCount, byte[] pending) {
    requireNonNull(h, "h");
    requireNonNull(pending, "pending");
    if (h.length != 8) {
      throw new IllegalArgumentException("h: " + h.length + " words (expected: 8)");
    }
    if (byteCount < 0 || byteCount % BLOCK_BYTES != pending.length) {
      throw new IllegalArgumentException(
          "pending: " + pending.length + " bytes after " + byteCount
              + " (expected: byteCount % 64 bytes)");
    }
    this.h = h.clone();
    this.byteCount = byteCount;
    this.pending = pending.clone();
  }

  /**
   * Reads a state in Bouncy Castle's encoding.
   *
   * @throws IllegalArgumentException when {@code encoded} is not one
   */
  static Sha256State decode(byte[] encoded) {
    requireNonNull(encoded, "encoded");
    int length = encoded.length;
    if (length < FIXED_BYTES || (length - FIXED_BYTES) % 4 != 0) {
      throw new IllegalArgumentException(
          "sha256 state: " + length + " bytes (expected: 53 + 4 * words, words < 16)");
    }
    ByteBuffer in = ByteBuffer.wrap(encoded);
    int partialBytes = in.getInt(4);
    long byteCount = in.getLong(8);
    int words = in.getInt(48);
    if (words < 0 || words >= 16 || length != FIXED_BYTES + 4 * words) {
      throw new IllegalArgumentException(
          "sha256 state: " + words + " words pending in " + length + " bytes (expected: "
              + (length - FIXED_BYTES) / 4 + ", < 16)");
    }
    if (partialBytes < 0 || partialBytes > 3) {
      throw new IllegalArgumentException(
          "sha256 state: " + partialBytes + " bytes of a partial word (expected: 0 to 3)");
    }
    int purpose = encoded[length - 1] & 0xff;
    if (purpose >= CryptoServicePurpose.values().length) {
      throw new IllegalArgumentException("sha256 state: unknown purpose " + purpose);
    }
    int[] h = new int[8];
    for (int i = 0; i < 8; i++) {
      h[i] = in.getInt(16 + 4 * i);
    }
    // Words are stored big-endian, as they were read from the input: their bytes are the input's.
    byte[] pending = new byte[4 * words + partialBytes];
    System.arraycopy(encoded, WORDS_OFFSET, pending, 0, 4 * words);
    System.arraycopy(encoded, 0, pending, 4 * words, partialBytes);
    try {
      return new Sha256State(h, byteCount, pending);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sha256 state: " + e.getMessage(), e);
    }
  }

  /** This state in Bouncy Castle's encoding, with the purpose Bouncy Castle gives by default. */
  byte[] encode() {
    int words = pending.length / 4;
    int partialBytes = pending.length % 4;
    byte[] encoded = new byte[FIXED_BYTES + 4 * words];
    ByteBuffer out = ByteBuffer.wrap(encoded);
    System.arraycopy(pending, 4 * words, encoded, 0, partialBytes);
    out.putInt(4, partialBytes);
    out.putLong(8, byteCount);
    for (int i = 0; i < 8; i++) {
      out.putInt(16 + 4 * i, h[i]);
    }
    out.putInt(48, words);
    System.arraycopy(pending, 0, encoded, WORDS_OFFSET, 4 * words);
    encoded[encoded.length - 1] = (byte) CryptoServicePurpose.ANY.ordinal();
    return encoded;
  }

  /** H1 to H8 after the last complete block. */
  int[] h() {
    return h.clone();
  }

  /** How many bytes were hashed. */
  long byteCount() {
    return byteCount;
  }

  /** The bytes after the last complete block. */
  byte[] pending() {
    return pending.clone();
  }

  @Override
  public String toString() {
    return "Sha256State{byteCount=" + byteCount + ", h=" + Arrays.toString(h) + "}";
  }
}
