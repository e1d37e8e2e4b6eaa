package dev.bytestreams3.service;

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

/** A real store passed through unchanged; a test overrides the one call it watches or holds. */
public abstract class ForwardingStore implements BlobStore {

  private final BlobStore inner;

  protected ForwardingStore(BlobStore inner) {
    this.inner = inner;
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return inner.findExisting(keys);
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return inner.size(key);
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
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return inner.openReader(key, offset, limit);
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
  public CompletableFuture<Void> touch(BlobKey key) {
    return inner.touch(key);
  }

  @Override
  public void addEvictionListener(java.util.function.Consumer<BlobKey> listener) {
    inner.addEvictionListener(listener);
  }

  @Override
  public dev.bytestreams3.storage.LifecycleCounters lifecycle() {
    return inner.lifecycle();
  }

  @Override
  public void close() {
    inner.close();
  }
}
