package dev.bytestreams3.service;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ForwardingStore;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store with its existence requests (size and existence lookups) counted: how many were
 * made, and the most in flight at once. Every call reaches the real store unchanged.
 */
public final class CountingStore extends ForwardingStore {

  private final AtomicInteger existenceRequests = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peakInFlight = new AtomicInteger();

  public CountingStore(BlobStore inner) {
    super(inner);
  }

  public int existenceRequests() {
    return existenceRequests.get();
  }

  public int peakExistenceRequestsInFlight() {
    return peakInFlight.get();
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    started();
    return super.size(key).whenComplete((v, e) -> inFlight.decrementAndGet());
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    started();
    return super.findExisting(keys).whenComplete((v, e) -> inFlight.decrementAndGet());
  }

  private void started() {
    existenceRequests.incrementAndGet();
    int now = inFlight.incrementAndGet();
    peakInFlight.accumulateAndGet(now, Math::max);
  }
}
