package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers which content-addressed blobs are absent from the store. A blob is present only when the
 * store holds its key with the size its digest declares. Blobs known present are remembered, with
 * their sizes, in a bounded cache (CAS blobs never change, so a present blob stays valid); the
 * rest are checked one key per store request, with a fixed number of requests in flight across the
 * whole server, so a call with thousands of digests never becomes thousands of parallel requests.
 */
public final class BlobPresence {

  private final BlobStore store;
  private final AsyncPermits permits;
  private final Map<BlobKey, Long> known;
  private final int cacheEntries;
  private final AtomicLong storeChecks = new AtomicLong();

  /**
   * @param cacheEntries how many present blobs to remember; 0 remembers none
   * @param checksInFlight store requests running at once, across all calls
   */
  public BlobPresence(BlobStore store, int cacheEntries, int checksInFlight) {
    this.store = requireNonNull(store, "store");
    this.permits = new AsyncPermits(checksInFlight);
    this.cacheEntries = cacheEntries;
    this.known =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<BlobKey, Long> eldest) {
            return size() > BlobPresence.this.cacheEntries;
          }
        };
  }

  /** Returns those of {@code blobs} that the store does not hold, in their first order. */
  public CompletableFuture<Set<StoredBlob>> missing(Collection<StoredBlob> blobs) {
    List<StoredBlob> asked = List.copyOf(new LinkedHashSet<>(blobs));
    // The size each key holds, known or asked of the store once per key, however many digests
    // name it (empty: nothing at the key).
    Map<BlobKey, CompletableFuture<OptionalLong>> sizes = new LinkedHashMap<>();
    synchronized (known) {
      for (StoredBlob b : asked) {
        Long size = known.get(b.key());
        if (size != null) {
          sizes.put(b.key(), CompletableFuture.completedFuture(OptionalLong.of(size)));
        }
      }
    }
    for (StoredBlob b : asked) {
      sizes.computeIfAbsent(
          b.key(),
          k ->
              permits.run(
                  () -> {
                    storeChecks.incrementAndGet();
                    return store.size(k);
                  }));
    }
    return CompletableFuture.allOf(sizes.values().toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              sizes.forEach(
                  (k, f) -> f.join().ifPresent(size -> markPresent(k, size)));
              Set<StoredBlob> missing = new LinkedHashSet<>();
              for (StoredBlob b : asked) {
                OptionalLong size = sizes.get(b.key()).join();
                if (size.isEmpty() || size.getAsLong() != b.sizeBytes()) {
                  missing.add(b);
                }
              }
              return missing;
            });
  }

  /** Remembers that {@code key} holds {@code sizeBytes}, once a write, read or HEAD proved it. */
  public void markPresent(BlobKey key, long sizeBytes) {
    if (cacheEntries == 0) {
      return;
    }
    synchronized (known) {
      known.put(key, sizeBytes);
    }
  }

  /** Existence requests sent to the store so far. */
  public long storeChecks() {
    return storeChecks.get();
  }

  /** The most store requests that were ever in flight at once is bounded by this. */
  int running() {
    return permits.running();
  }
}
