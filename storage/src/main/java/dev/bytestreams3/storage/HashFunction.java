package dev.bytestreams3.storage;

/** A hash function whose running state can be saved and restored, in this or another process. */
public interface HashFunction {

  /** A lower-case name such as {@code sha256}, used in keys and logs. */
  String id();

  /** The length of a digest in bytes. */
  int digestLength();

  /** Starts hashing from nothing. */
  ContentHasher newHasher();

  /**
   * Continues hashing from a state returned by {@link ContentHasher#exportState()}.
   *
   * @throws IllegalArgumentException when {@code state} is not such a state
   */
  ContentHasher restore(byte[] state);
}
