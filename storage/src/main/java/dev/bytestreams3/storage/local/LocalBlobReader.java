package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Reads a file chunk by chunk. While the caller takes one chunk, the next {@link #AHEAD_CHUNKS}
 * are read, as far as the memory budget has room for them; otherwise each chunk is read only when
 * asked for. A chunk read ahead holds its bytes from the budget until it is handed over.
 *
 * <p>Two chunks ahead rather than one: with one, a caller that sends a chunk in about the time the
 * next takes to read found that read unfinished about one time in four, and waited for it.
 */
final class LocalBlobReader implements BlobReader {

  private static final int CHUNK_BYTES = MAX_CHUNK_BYTES;
  /** Chunks read ahead of the caller at most. */
  static final int AHEAD_CHUNKS = 2;

  private final LocalBlobStore store;
  private final MemoryBudget budget;
  private final FileChannel channel;
  private final long blobSize;
  private final long end;

  // Guarded by this.
  private long position;
  /** Chunks read ahead, in order, each with what it holds from the budget. */
  private final ArrayDeque<Ahead> ahead = new ArrayDeque<>();
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
    Ahead first = ahead.poll();
    if (first != null) {
      current = first.chunk();
      // Handed over: from here the chunk is the caller's, as a chunk read on demand is.
      first.held().close();
    } else {
      current = read();
    }
    while (ahead.size() < AHEAD_CHUNKS && position < end) {
      MemoryBudget.Reservation held = budget.tryReserve(Math.min(CHUNK_BYTES, end - position));
      if (held == null) {
        break;
      }
      ahead.add(new Ahead(read(), held));
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
      // The chunks read ahead are dropped, so is what they hold.
      for (Ahead a : ahead) {
        a.held().close();
      }
      ahead.clear();
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a read-only channel loses nothing.
    }
  }

  /** A chunk being read ahead and the part of the budget it holds. */
  private record Ahead(CompletableFuture<ByteBuffer> chunk, MemoryBudget.Reservation held) {}
}
