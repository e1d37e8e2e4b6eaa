package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Reads a range of a blob in order, one chunk at a time, on demand. The store reads ahead within
 * its bounds and never further, so a reader that stops asking stops the store.
 */
public interface BlobReader extends AutoCloseable {

  /** The size of the whole blob. */
  long blobSize();

  /**
   * Returns the next chunk of the range, or {@code null} once it is all delivered. At most one
   * call may be outstanding. Chunks are at most {@link #MAX_CHUNK_BYTES} long.
   */
  CompletableFuture<ByteBuffer> next();

  /** Stops reading and cancels requests in flight; safe to call more than once. */
  @Override
  void close();

  /** The largest chunk {@link #next()} returns. */
  int MAX_CHUNK_BYTES = 1 << 20;
}
