package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongFunction;

/**
 * Reads a range of a tier file in chunks, waiting for bytes a fill has not written yet. When the
 * tier's disk fails ({@link DiskFault}), the reader continues from the slow store at the position
 * it reached, so a failing tier costs speed, never a read; a failure of the slow store ends the
 * read as it would without the tier.
 */
final class TierReader implements BlobReader {

  private final TierSource source;
  private final Executor io;
  private final long end;
  /** Opens a reader of the slow store from a position to {@link #end}. */
  private final LongFunction<CompletableFuture<BlobReader>> fallback;

  // Guarded by this.
  private long position;
  private BlobReader fallen;
  private boolean closed;

  TierReader(
      TierSource source, Executor io, long start, long end,
      LongFunction<CompletableFuture<BlobReader>> fallback) {
    this.source = source;
    this.io = io;
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
    if (position >= end) {
      return CompletableFuture.completedFuture(null);
    }
    long from = position;
    return source
        .readable(from)
        .thenApplyAsync(readable -> readChunk(from, readable), io)
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

  private ByteBuffer readChunk(long from, long readable) {
    int n = (int) Math.min(MAX_CHUNK_BYTES, Math.min(end, readable) - from);
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
    synchronized (this) {
      position = from + n;
    }
    return chunk.flip();
  }

  /** Continues from the slow store at {@code from}. */
  private CompletableFuture<ByteBuffer> fallBack(long from) {
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

  @Override
  public void close() {
    BlobReader f;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      f = fallen;
    }
    if (f != null) {
      f.close();
    } else {
      source.release();
    }
  }
}
