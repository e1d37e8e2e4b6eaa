package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers which content-addressed blobs are absent from the store. Blobs known present are
 * remembered in a bounded cache (CAS blobs never change, so a present blob stays valid); the rest
 * are checked one key per store request, with a fixed number of requests in flight across the
 * whole server, so a call with thousands of digests never becomes thousands of parallel requests.
 */
public final class BlobPresence {

  private final BlobStore store;
  private final AsyncPermits permits;
  private final Map<BlobKey, Boolean> known;
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
          protected boolean removeEldestEntry(Map.Entry<BlobKey, Boolean> eldest) {
            return size() > BlobPresence.this.cacheEntries;
          }
        };
  }

  /** Returns those of {@code keys} that the store does not hold, in their first order. */
  public CompletableFuture<Set<BlobKey>> missing(Collection<BlobKey> keys) {
    List<BlobKey> unknown = new ArrayList<>();
    synchronized (known) {
      for (BlobKey k : new LinkedHashSet<>(keys)) {
        if (known.get(k) == null) {
          unknown.add(k);
        }
      }
    }
    List<CompletableFuture<Boolean>> checks = new ArrayList<>(unknown.size());
    for (BlobKey k : unknown) {
      checks.add(
          permits.run(
              () -> {
                storeChecks.incrementAndGet();
                return store.findExisting(List.of(k)).thenApply(found -> found.contains(k));
              }));
    }
    return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Set<BlobKey> missing = new LinkedHashSet<>();
              for (int i = 0; i < unknown.size(); i++) {
                if (checks.get(i).join()) {
                  markPresent(unknown.get(i));
                } else {
                  missing.add(unknown.get(i));
                }
              }
              return missing;
            });
  }

  /** Remembers that {@code key} holds a blob, after a write or read proved it. */
  public void markPresent(BlobKey key) {
    if (cacheEntries == 0) {
      return;
    }
    synchronized (known) {
      known.put(key, Boolean.TRUE);
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
