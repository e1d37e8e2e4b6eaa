package dev.bytestreams3.service.compression;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;

/**
 * Decompresses a zstd stream that arrives in pieces, producing output one bounded chunk at a time
 * so that a small, highly compressed message never turns into a large buffer. Not thread-safe.
 */
public final class ZstdDecoder implements AutoCloseable {

  /** The largest chunk {@link #next()} returns. */
  public static final int CHUNK_BYTES = 256 * 1024;

  private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
  private final ByteBuffer output = ByteBuffer.allocateDirect(CHUNK_BYTES);
  private ByteBuffer input = ByteBuffer.allocateDirect(64 * 1024).flip();
  private boolean outputWasFull;
  private boolean frameEnded;
  private long inputBytes;

  /** Takes the next piece of compressed data; call only once {@link #next()} returned null. */
  public void feed(ByteBuffer compressed) {
    if (input.hasRemaining() || outputWasFull) {
      throw new IllegalStateException("previous input not fully decoded");
    }
    if (input.capacity() < compressed.remaining()) {
      input = ByteBuffer.allocateDirect(compressed.remaining());
    }
    input.clear();
    input.put(compressed.duplicate());
    input.flip();
    inputBytes += compressed.remaining();
  }

  /**
   * Returns the next chunk of decompressed bytes, or null when the input fed so far is used up.
   * The chunk is valid until the next call.
   *
   * @throws IllegalArgumentException when the data is not valid zstd
   */
  public ByteBuffer next() {
    output.clear();
    try {
      while (output.hasRemaining() && (input.hasRemaining() || outputWasFull)) {
        int consumedBefore = input.position();
        if (ctx.decompressDirectByteBufferStream(output, input)) {
          frameEnded = true;
        } else if (input.position() > consumedBefore) {
          // Input went into a frame that is not finished yet. A call that only flushed output
          // left over from a finished frame changes nothing.
          frameEnded = false;
        }
        outputWasFull = !output.hasRemaining();
      }
    } catch (ZstdException e) {
      throw new IllegalArgumentException(
          "compressed data is not valid zstd (after " + inputBytes + " compressed bytes): "
              + e.getMessage(), e);
    }
    output.flip();
    return output.hasRemaining() ? output : null;
  }

  /** Compressed bytes fed so far. */
  public long inputBytes() {
    return inputBytes;
  }

  /**
   * Checks that the stream ended at the end of a frame.
   *
   * @throws IllegalArgumentException when it stopped inside one
   */
  public void checkComplete() {
    if (!frameEnded && inputBytes > 0) {
      throw new IllegalArgumentException(
          "zstd stream ends inside a frame after " + inputBytes + " compressed bytes");
    }
    if (inputBytes == 0) {
      throw new IllegalArgumentException("zstd stream is empty (expected: at least one frame)");
    }
  }

  @Override
  public void close() {
    ctx.close();
  }
}
