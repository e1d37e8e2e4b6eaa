package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** A reader whose blob the store does not evict until the reader is closed. */
final class PinnedReader implements BlobReader {

  private final BlobReader inner;
  private final DiskIndex index;
  private final BlobKey key;
  private final AtomicBoolean closed = new AtomicBoolean();

  PinnedReader(BlobReader inner, DiskIndex index, BlobKey key) {
    this.inner = inner;
    this.index = index;
    this.key = key;
  }

  @Override
  public long blobSize() {
    return inner.blobSize();
  }

  @Override
  public CompletableFuture<ByteBuffer> next() {
    return inner.next();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        inner.close();
      } finally {
        index.unpin(key);
      }
    }
  }
}
