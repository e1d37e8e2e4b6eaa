package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Megabytes of bytes (a part being written, a segment being read) kept in heap chunks of {@link
 * #CHUNK_BYTES}. As one array, such a buffer would be a "humongous" object that the G1 collector
 * never moves and that takes whole regions: many of them fragment a small heap until an
 * allocation fails with much of it free. Chunks this small are ordinary objects, allocated only
 * as bytes arrive. Not thread-safe.
 */
final class ChunkedBuffer {

  /** Below half of G1's smallest region (1 MiB), so a chunk is never humongous. */
  static final int CHUNK_BYTES = 256 * 1024;

  private final int capacity;
  private final List<ByteBuffer> chunks = new ArrayList<>();
  private int size;

  ChunkedBuffer(int capacity) {
    this.capacity = capacity;
  }

  int size() {
    return size;
  }

  int remaining() {
    return capacity - size;
  }

  /** Copies {@code src}'s remaining bytes, which must fit, advancing its position. */
  void put(ByteBuffer src) {
    if (src.remaining() > remaining()) {
      throw new IllegalArgumentException(
          src.remaining() + " bytes do not fit in the " + remaining() + " left of a buffer of " + capacity);
    }
    while (src.hasRemaining()) {
      ByteBuffer last = chunks.isEmpty() ? null : chunks.get(chunks.size() - 1);
      if (last == null || !last.hasRemaining()) {
        last = ByteBuffer.allocate(Math.min(CHUNK_BYTES, capacity - chunks.size() * CHUNK_BYTES));
        chunks.add(last);
      }
      int n = Math.min(src.remaining(), last.remaining());
      ByteBuffer piece = src.slice();
      piece.limit(n);
      last.put(piece);
      src.position(src.position() + n);
      size += n;
    }
  }

  /** The bytes put so far, in order, as buffers of their own that share the content. */
  ByteBuffer[] contents() {
    ByteBuffer[] out = new ByteBuffer[chunks.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = chunks.get(i).duplicate().flip();
    }
    return out;
  }
}
