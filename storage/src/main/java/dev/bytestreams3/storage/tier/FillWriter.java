package dev.bytestreams3.storage.tier;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Appends bytes to a tier file being made: a fill's, or the copy of an upload. Where the file
 * system allows it, they go to the disk without passing through the page cache (direct I/O): the
 * first read of a blob then does not pay for the page cache's new memory, and the check that
 * follows it (or, for an upload's copy, the check before it is first served) reads the file into
 * the cache once, off the readers' path. Direct I/O writes whole blocks at block offsets, so the bytes of a
 * block are kept back until it is full, and the last, partial block is written at {@link
 * #finish()}. Where direct I/O is refused, bytes are written as they come. Not thread-safe.
 */
final class FillWriter implements AutoCloseable {

  private final FileChannel channel;
  /** Where bytes are staged for direct I/O; null when they are written as they come. */
  private final AlignedBuffers buffers;
  /** The bytes of a block not yet full, kept back. */
  private final byte[] carry;
  private int carried;
  /** Bytes in the file, readable by positional reads of any channel of it. */
  private long flushed;

  private FillWriter(FileChannel channel, AlignedBuffers buffers) {
    this.channel = channel;
    this.buffers = buffers;
    this.carry = new byte[buffers == null ? 0 : buffers.alignment()];
  }

  /**
   * A writer of {@code file}, which {@code buffered} has open: with a channel of its own for direct
   * I/O when there are {@code buffers} (aligned to the blocks of the file's file system: {@link
   * AlignedBuffers#forFileSystemOf}) and the file system allows direct I/O, else through {@code
   * buffered}, which it never closes.
   */
  static FillWriter open(Path file, FileChannel buffered, AlignedBuffers buffers) {
    if (buffers == null) {
      return buffered(buffered);
    }
    try {
      FileChannel ch =
          FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
      return new FillWriter(ch, buffers);
    } catch (IOException | UnsupportedOperationException e) {
      return buffered(buffered);
    }
  }

  /** A writer through {@code channel}, bytes written as they come. */
  static FillWriter buffered(FileChannel channel) {
    return new FillWriter(channel, null);
  }

  /** Whether bytes bypass the page cache. */
  boolean direct() {
    return buffers != null;
  }

  /** How many bytes from the start of the file are in it. */
  long flushed() {
    return flushed;
  }

  /** Appends {@code chunk}'s remaining bytes, leaving its position; returns {@link #flushed()}. */
  long append(ByteBuffer chunk) throws IOException {
    ByteBuffer src = chunk.duplicate();
    if (buffers == null) {
      flushed += writeFully(src, flushed);
      return flushed;
    }
    int block = carry.length;
    ByteBuffer stage = buffers.take();
    try {
      stage.put(carry, 0, carried);
      carried = 0;
      while (src.hasRemaining()) {
        int n = Math.min(src.remaining(), stage.remaining());
        ByteBuffer piece = src.slice();
        piece.limit(n);
        stage.put(piece);
        src.position(src.position() + n);
        int staged = stage.position();
        int whole = staged / block * block;
        if (whole > 0) {
          stage.flip().limit(whole);
          flushed += writeFully(stage, flushed);
          stage.limit(staged).position(whole);
          stage.compact();
        }
      }
      carried = stage.position();
      stage.flip().get(carry, 0, carried);
    } finally {
      buffers.give(stage);
    }
    return flushed;
  }

  /** Writes the bytes kept back, leaving the file exactly as long as what was appended. */
  long finish() throws IOException {
    if (carried > 0) {
      ByteBuffer stage = buffers.take();
      try {
        Arrays.fill(carry, carried, carry.length, (byte) 0);
        stage.put(carry).flip();
        writeFully(stage, flushed);
      } finally {
        buffers.give(stage);
      }
      long size = flushed + carried;
      channel.truncate(size);
      flushed = size;
      carried = 0;
    }
    return flushed;
  }

  private int writeFully(ByteBuffer b, long at) throws IOException {
    int n = b.remaining();
    while (b.hasRemaining()) {
      channel.write(b, at + n - b.remaining());
    }
    return n;
  }

  /** Closes the channel of direct I/O; a writer through the shared channel leaves it open. */
  @Override
  public void close() throws IOException {
    if (buffers != null) {
      channel.close();
    }
  }
}
