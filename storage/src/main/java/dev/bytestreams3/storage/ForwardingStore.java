package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A store that passes every call to an inner store unchanged: the base of stores that add one
 * concern around another, each overriding only the calls it changes. It describes itself as its
 * inner store does until a subclass says otherwise.
 */
public abstract class ForwardingStore implements BlobStore {

  private final BlobStore inner;

  protected ForwardingStore(BlobStore inner) {
    this.inner = requireNonNull(inner, "inner");
  }

  /** The store this one wraps. */
  public final BlobStore inner() {
    return inner;
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
  public CompletableFuture<Map<BlobKey, Long>> sizes(Collection<BlobKey> keys) {
    return inner.sizes(keys);
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
  public CompletableFuture<Boolean> holdsBeforeUpload(BlobKey key, long sizeBytes) {
    return inner.holdsBeforeUpload(key, sizeBytes);
  }

  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    return inner.touch(key);
  }

  @Override
  public void addEvictionListener(Consumer<BlobKey> listener) {
    inner.addEvictionListener(listener);
  }

  @Override
  public LifecycleCounters lifecycle() {
    return inner.lifecycle();
  }

  @Override
  public String describe() {
    return inner.describe();
  }

  @Override
  public void close() {
    inner.close();
  }
}
