package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongFunction;

/**
 * Reads a range of a tier file in chunks, waiting for bytes a fill has not written yet. While the
 * caller takes one chunk, the next {@link #AHEAD_CHUNKS} of the bytes already in the file are
 * read, as far as the memory budget has room for them while at most half of it is reserved (a
 * complete file is read ahead like a file of the local store); bytes a fill has not written yet
 * are read when asked for. When the tier's disk fails ({@link DiskFault}), the reader continues
 * from the slow store at the position it reached, so a failing tier costs speed, never a read; a
 * failure of the slow store ends the read as it would without the tier.
 */
final class TierReader implements BlobReader {

  /** Chunks read ahead of the caller at most. */
  static final int AHEAD_CHUNKS = 2;

  private final TierSource source;
  private final Executor io;
  private final MemoryBudget budget;
  private final long end;
  /** Opens a reader of the slow store from a position to {@link #end}. */
  private final LongFunction<CompletableFuture<BlobReader>> fallback;

  // Guarded by this.
  /** The first byte no read has been started for. */
  private long position;
  /** Chunks read ahead, in order, each with where it starts and what it holds of the budget. */
  private final ArrayDeque<Ahead> ahead = new ArrayDeque<>();
  private BlobReader fallen;
  private boolean closed;

  TierReader(
      TierSource source, Executor io, MemoryBudget budget, long start, long end,
      LongFunction<CompletableFuture<BlobReader>> fallback) {
    this.source = source;
    this.io = io;
    this.budget = budget;
    this.position = start;
    this.end = end;
    this.fallback = fallback;
  }

  @Override
  public long blobSize() {
    return source.blobSize();
  }

  @Override
  public synchronized CompletableFuture<ByteBuffer> next() {
    if (closed) {
      return CompletableFuture.completedFuture(null);
    }
    if (fallen != null) {
      return fallen.next();
    }
    long from;
    CompletableFuture<ByteBuffer> current;
    Ahead first = ahead.poll();
    long written = Math.min(end, source.writtenBytes());
    if (first != null) {
      from = first.from();
      current = first.chunk();
      // Handed over: from here the chunk is the caller's, as a chunk read when asked for is.
      first.held().close();
    } else if (position >= end) {
      return CompletableFuture.completedFuture(null);
    } else if (position < written) {
      from = position;
      int n = (int) Math.min(MAX_CHUNK_BYTES, written - from);
      position += n;
      current = read(from, n);
    } else {
      // At the fill's frontier: how long the chunk is depends on what the fill writes next.
      from = position;
      current = source.readable(from).thenCompose(ready -> atFrontier(from, ready));
    }
    while (position < written && ahead.size() < AHEAD_CHUNKS) {
      int n = (int) Math.min(MAX_CHUNK_BYTES, written - position);
      MemoryBudget.Reservation held = budget.tryReserve(n, budget.capacityBytes() / 2);
      if (held == null) {
        break;
      }
      ahead.add(new Ahead(position, read(position, n), held));
      position += n;
    }
    return current
        .handle(
            (chunk, err) -> {
              if (err == null) {
                return CompletableFuture.completedFuture(chunk);
              }
              Throwable cause =
                  err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                      ? err.getCause()
                      : err;
              if (cause instanceof DiskFault) {
                return fallBack(from);
              }
              return CompletableFuture.<ByteBuffer>failedFuture(StorageException.from(cause));
            })
        .thenCompose(f -> f);
  }

  /**
   * Reads the {@code n} bytes at {@code from}, all of them written, on an I/O thread; fails as
   * the store's other tier work does once the store is closed, rather than throwing here.
   */
  private CompletableFuture<ByteBuffer> read(long from, int n) {
    try {
      return CompletableFuture.supplyAsync(() -> readChunk(from, n), io);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new StorageException(StorageException.Reason.UNAVAILABLE, "store is closed", e));
    }
  }

  /**
   * The chunk at {@code from} once the fill has it: taken from memory while it waits for the disk,
   * else read from the file.
   */
  private CompletableFuture<ByteBuffer> atFrontier(long from, TierSource.Ready ready) {
    long upTo = Math.min(end, ready.upTo());
    if (upTo <= from) {
      // The store behind the tier ended the blob before its announced size.
      return CompletableFuture.failedFuture(
          new StorageException(
              StorageException.Reason.INTERNAL,
              "blob ended at " + ready.upTo() + " bytes of " + source.blobSize()));
    }
    ByteBuffer held = ready.held();
    int n = (int) Math.min(MAX_CHUNK_BYTES, upTo - from);
    if (held != null) {
      n = Math.min(n, held.remaining());
    }
    synchronized (this) {
      position = Math.max(position, from + n);
    }
    if (held == null) {
      return read(from, n);
    }
    ByteBuffer chunk = held.duplicate();
    chunk.limit(chunk.position() + n);
    return CompletableFuture.completedFuture(chunk.slice());
  }

  private ByteBuffer readChunk(long from, int n) {
    ByteBuffer chunk = ByteBuffer.allocate(n);
    try {
      while (chunk.hasRemaining()) {
        int got = source.channel().read(chunk, from + chunk.position());
        if (got < 0) {
          throw new IOException("tier file ended at " + (from + chunk.position()));
        }
      }
    } catch (IOException e) {
      throw new DiskFault("tier read: " + e, e);
    }
    return chunk.flip();
  }

  /** Continues from the slow store at {@code from}, dropping whatever was read ahead of it. */
  private CompletableFuture<ByteBuffer> fallBack(long from) {
    synchronized (this) {
      dropAhead();
    }
    return fallback
        .apply(from)
        .thenCompose(
            r -> {
              synchronized (this) {
                if (closed) {
                  r.close();
                  return CompletableFuture.completedFuture(null);
                }
                fallen = r;
              }
              source.release();
              return r.next();
            });
  }

  /** Drops the chunks read ahead, and what they hold of the budget. Guarded by this. */
  private void dropAhead() {
    for (Ahead a : ahead) {
      a.held().close();
    }
    ahead.clear();
  }

  @Override
  public void close() {
    BlobReader f;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      dropAhead();
      f = fallen;
    }
    if (f != null) {
      f.close();
    } else {
      source.release();
    }
  }

  /** A chunk being read ahead: where it starts and the part of the budget it holds. */
  private record Ahead(long from, CompletableFuture<ByteBuffer> chunk, MemoryBudget.Reservation held) {}
}
