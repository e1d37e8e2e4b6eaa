package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ForwardingStore;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in front of a real one whose readers deliver their first chunk and then hold every
 * further chunk until {@link #release()}: a download caught in the middle, for as long as a test
 * needs. Counts the readers it opened.
 */
final class HeldReads extends ForwardingStore {

  private final CompletableFuture<Void> released = new CompletableFuture<>();
  private final AtomicInteger readers = new AtomicInteger();

  HeldReads(BlobStore inner) {
    super(inner);
  }

  void release() {
    released.complete(null);
  }

  int readersOpened() {
    return readers.get();
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    readers.incrementAndGet();
    return inner().openReader(key, offset, limit).thenApply(Held::new);
  }

  private final class Held implements BlobReader {
    private final BlobReader r;
    private boolean first = true;

    Held(BlobReader r) {
      this.r = r;
    }

    @Override
    public long blobSize() {
      return r.blobSize();
    }

    @Override
    public synchronized CompletableFuture<ByteBuffer> next() {
      if (first) {
        first = false;
        return r.next();
      }
      return released.thenCompose(v -> r.next());
    }

    @Override
    public void close() {
      r.close();
    }
  }
}
