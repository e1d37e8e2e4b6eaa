package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/**
 * Reads a file chunk by chunk. While the caller takes one chunk, the next is read, when the memory
 * budget has room for it; otherwise each chunk is read only when asked for. A chunk read ahead
 * holds its bytes from the budget until it is handed over.
 */
final class LocalBlobReader implements BlobReader {

  private static final int CHUNK_BYTES = MAX_CHUNK_BYTES;

  private final LocalBlobStore store;
  private final MemoryBudget budget;
  private final FileChannel channel;
  private final long blobSize;
  private final long end;

  // Guarded by this.
  private long position;
  private CompletableFuture<ByteBuffer> ahead;
  private MemoryBudget.Reservation aheadHeld;
  private boolean closed;

  LocalBlobReader(
      LocalBlobStore store,
      MemoryBudget budget,
      FileChannel channel,
      long blobSize,
      long start,
      long end) {
    this.store = store;
    this.budget = budget;
    this.channel = channel;
    this.blobSize = blobSize;
    this.position = start;
    this.end = end;
  }

  @Override
  public long blobSize() {
    return blobSize;
  }

  @Override
  public synchronized CompletableFuture<ByteBuffer> next() {
    if (closed) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<ByteBuffer> current;
    if (ahead != null) {
      current = ahead;
      ahead = null;
      // Handed over: from here the chunk is the caller's, as a chunk read on demand is.
      aheadHeld.close();
      aheadHeld = null;
    } else {
      current = read();
    }
    if (position < end) {
      MemoryBudget.Reservation held = budget.tryReserve(Math.min(CHUNK_BYTES, end - position));
      if (held != null) {
        aheadHeld = held;
        ahead = read();
      }
    }
    return current;
  }

  /** Reads the next chunk of the range on an I/O thread; null once the range is all read. */
  private CompletableFuture<ByteBuffer> read() {
    if (position >= end) {
      return CompletableFuture.completedFuture(null);
    }
    long from = position;
    int n = (int) Math.min(CHUNK_BYTES, end - from);
    position += n;
    return store.onIo(
        "read",
        () -> {
          if (!channel.isOpen()) {
            // Closed while this read waited: nobody takes the chunk.
            return null;
          }
          ByteBuffer chunk = ByteBuffer.allocate(n);
          while (chunk.hasRemaining()) {
            int got;
            try {
              got = channel.read(chunk, from + chunk.position());
            } catch (ClosedChannelException e) {
              return null;
            }
            if (got < 0) {
              throw new IOException("file ended early at " + (from + chunk.position()));
            }
          }
          return chunk.flip();
        });
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (aheadHeld != null) {
        // The chunk read ahead is dropped, so is what it holds.
        aheadHeld.close();
        aheadHeld = null;
        ahead = null;
      }
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a read-only channel loses nothing.
    }
  }
}
