package dev.bytestreams3.storage.tier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Direct buffers at block-aligned addresses, which direct I/O writes from, kept for reuse: one is
 * taken for each write and given back after it, so there are about as many as writes run at once
 * (the tier's I/O threads), and direct memory is not allocated and freed per write.
 */
final class AlignedBuffers {

  /** The bytes of one buffer, and the most one write takes. */
  static final int BUFFER_BYTES = 256 * 1024;

  private final int alignment;
  private final ArrayBlockingQueue<ByteBuffer> free;

  /** Buffers aligned to {@code alignment} bytes, at most {@code kept} of them kept for reuse. */
  AlignedBuffers(int alignment, int kept) {
    if (alignment <= 0 || BUFFER_BYTES % alignment != 0) {
      throw new IllegalArgumentException(
          "alignment: " + alignment + " (expected: a divisor of " + BUFFER_BYTES + ")");
    }
    this.alignment = alignment;
    this.free = new ArrayBlockingQueue<>(kept);
  }

  /**
   * Buffers aligned to the blocks of the file system that holds {@code dir}, at most {@code kept}
   * of them kept; null when its block size is not known or does not divide {@link #BUFFER_BYTES}.
   * Asked once: finding a path's file system reads the table of mounts.
   */
  static AlignedBuffers forFileSystemOf(Path dir, int kept) {
    try {
      long block = Files.getFileStore(dir).getBlockSize();
      if (block > 0 && BUFFER_BYTES % block == 0) {
        return new AlignedBuffers((int) block, kept);
      }
    } catch (IOException | UnsupportedOperationException e) {
      // Written through the page cache.
    }
    return null;
  }

  int alignment() {
    return alignment;
  }

  /** A cleared buffer of {@link #BUFFER_BYTES}, to give back with {@link #give}. */
  ByteBuffer take() {
    ByteBuffer b = free.poll();
    if (b == null) {
      b = ByteBuffer.allocateDirect(BUFFER_BYTES + alignment).alignedSlice(alignment);
      b.limit(BUFFER_BYTES);
    }
    return b.clear().limit(BUFFER_BYTES);
  }

  /** Keeps {@code b} for the next write, or drops it when enough are kept. */
  void give(ByteBuffer b) {
    free.offer(b);
  }
}
