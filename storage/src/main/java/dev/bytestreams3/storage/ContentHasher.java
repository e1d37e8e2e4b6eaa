package dev.bytestreams3.storage;

import java.nio.ByteBuffer;

/** The running state of one {@link HashFunction} over a stream of bytes. Not thread-safe. */
public interface ContentHasher {

  /** Adds the remaining bytes of {@code data}, leaving its position unchanged. */
  void update(ByteBuffer data);

  /** Returns the state after every byte added so far, for {@link HashFunction#restore}. */
  byte[] exportState();

  /** Returns the digest of every byte added so far, leaving the state unchanged. */
  byte[] digest();
}
