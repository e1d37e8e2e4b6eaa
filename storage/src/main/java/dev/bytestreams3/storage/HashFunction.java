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
   * Whether {@link ContentHasher#exportState()} and {@link #restore} work for this function. An
   * upload verified with a function that is not resumable cannot continue from committed bytes:
   * a store starts it again from zero rather than publish content it could not fully check.
   */
  default boolean resumable() {
    return true;
  }

  /**
   * Continues hashing from a state returned by {@link ContentHasher#exportState()}.
   *
   * @throws IllegalArgumentException when {@code state} is not such a state
   */
  ContentHasher restore(byte[] state);
}
