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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store with its existence requests counted: how many were made, and the most in flight at
 * once. Every call reaches the real store unchanged.
 */
public final class CountingStore implements BlobStore {

  private final BlobStore inner;
  private final AtomicInteger existenceRequests = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peakInFlight = new AtomicInteger();

  public CountingStore(BlobStore inner) {
    this.inner = inner;
  }

  public int existenceRequests() {
    return existenceRequests.get();
  }

  public int peakExistenceRequestsInFlight() {
    return peakInFlight.get();
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    existenceRequests.incrementAndGet();
    int now = inFlight.incrementAndGet();
    peakInFlight.accumulateAndGet(now, Math::max);
    return inner.findExisting(keys).whenComplete((v, e) -> inFlight.decrementAndGet());
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
  public CompletableFuture<ByteBuffer> get(BlobKey key) {
    return inner.get(key);
  }

  @Override
  public void close() {
    inner.close();
  }
}
