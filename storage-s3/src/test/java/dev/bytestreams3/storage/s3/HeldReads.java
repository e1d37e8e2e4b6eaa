package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in front of a real one whose readers deliver their first chunk and then hold every
 * further chunk until {@link #release()}: a download caught in the middle, for as long as a test
 * needs. Counts the readers it opened.
 */
final class HeldReads implements BlobStore {

  private final BlobStore inner;
  private final CompletableFuture<Void> released = new CompletableFuture<>();
  private final AtomicInteger readers = new AtomicInteger();

  HeldReads(BlobStore inner) {
    this.inner = inner;
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
    return inner.openReader(key, offset, limit).thenApply(Held::new);
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

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return inner.size(key);
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return inner.findExisting(keys);
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    return inner.queryUpload(spec);
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    return inner.openUpload(spec);
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    return inner.put(key, data);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    return inner.get(key, maxBytes);
  }

  @Override
  public void close() {
    inner.close();
  }
}
