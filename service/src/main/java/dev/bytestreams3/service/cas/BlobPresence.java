package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 * store holds its key with the size its digest declares and the store has been told it is in use
 * ({@link BlobStore#touch}), which keeps it from an expiry rule for a while. Blobs known present
 * are remembered, with their sizes, in a bounded cache for at most {@code ttl}, and forgotten the
 * moment a read finds them gone ({@link #forget}) or the store evicts them; the rest are checked
 * one key per store request, with a fixed number of requests in flight across the whole server, so
 * a call with thousands of digests never becomes thousands of parallel requests.
 *
 * <p>Blobs the store just reported absent are remembered too, for {@link #MISSING_TTL}, so that
 * the upload a client starts after FindMissingBlobs told it to need not ask the store again
 * ({@link #reportedMissing}). That memory only ever saves a question: a blob stored meanwhile is
 * uploaded once more, which a content-addressed store allows.
 */
public final class BlobPresence {

  /** How long a blob the store reported absent is taken to be absent by an upload of it. */
  public static final Duration MISSING_TTL = Duration.ofMinutes(2);

  private record Known(long sizeBytes, Instant expires) {}

  private final BlobStore store;
  private final AsyncPermits permits;
  private final Map<BlobKey, Known> known;
  /** Blobs the store reported absent, until when; at most {@code cacheEntries}. */
  private final Map<StoredBlob, Instant> reportedAbsent;
  private final int cacheEntries;
  private final Duration ttl;
  private final Clock clock;
  private final AtomicLong storeChecks = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong invalidations = new AtomicLong();
  private final AtomicLong missingHits = new AtomicLong();

  /**
   * @param cacheEntries how many present blobs to remember; 0 remembers none
   * @param checksInFlight store requests running at once, across all calls
   * @param ttl how long a present blob is remembered
   * @param clock what {@code ttl} is measured by
   */
  public BlobPresence(
      BlobStore store, int cacheEntries, int checksInFlight, Duration ttl, Clock clock) {
    this.store = requireNonNull(store, "store");
    this.permits = new AsyncPermits(checksInFlight);
    this.cacheEntries = cacheEntries;
    this.ttl = requireNonNull(ttl, "ttl");
    this.clock = requireNonNull(clock, "clock");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
    }
    this.known =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<BlobKey, Known> eldest) {
            return size() > BlobPresence.this.cacheEntries;
          }
        };
    this.reportedAbsent =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<StoredBlob, Instant> eldest) {
            return size() > BlobPresence.this.cacheEntries;
          }
        };
    store.addEvictionListener(this::forget);
  }

  /** Remembers present blobs for an hour by the system clock. */
  public BlobPresence(BlobStore store, int cacheEntries, int checksInFlight) {
    this(store, cacheEntries, checksInFlight, Duration.ofHours(1), Clock.systemUTC());
  }

  /** Returns those of {@code blobs} that the store does not hold, in their first order. */
  public CompletableFuture<Set<StoredBlob>> missing(Collection<StoredBlob> blobs) {
    List<StoredBlob> asked = List.copyOf(new LinkedHashSet<>(blobs));
    // The size each key holds, known or asked of the store once per key, however many digests
    // name it (empty: nothing at the key).
    Map<BlobKey, CompletableFuture<OptionalLong>> sizes = new LinkedHashMap<>();
    Instant now = clock.instant();
    synchronized (known) {
      for (StoredBlob b : asked) {
        if (sizes.containsKey(b.key())) {
          continue;
        }
        Known k = known.get(b.key());
        if (k != null && now.isBefore(k.expires())) {
          hits.incrementAndGet();
          sizes.put(b.key(), inUse(b.key(), OptionalLong.of(k.sizeBytes()), false));
        } else if (k != null) {
          known.remove(b.key());
        }
      }
    }
    for (StoredBlob b : asked) {
      sizes.computeIfAbsent(
          b.key(),
          k -> {
            misses.incrementAndGet();
            return permits
                .run(
                    () -> {
                      storeChecks.incrementAndGet();
                      return store.size(k);
                    })
                .thenCompose(size -> inUse(k, size, true));
          });
    }
    return CompletableFuture.allOf(sizes.values().toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Set<StoredBlob> absent = new LinkedHashSet<>();
              for (StoredBlob b : asked) {
                OptionalLong size = sizes.get(b.key()).join();
                if (size.isEmpty() || size.getAsLong() != b.sizeBytes()) {
                  absent.add(b);
                }
              }
              rememberMissing(absent);
              return absent;
            });
  }

  /**
   * Tells the store that a blob about to be reported present is in use, and remembers it once the
   * store has kept it ({@code remember}: an answer from the store, not from this cache, whose
   * entries never outlive their TTL); a blob the store cannot keep (gone, or its refresh failed)
   * is reported absent, so that the client uploads it again rather than relying on it.
   */
  private CompletableFuture<OptionalLong> inUse(BlobKey key, OptionalLong size, boolean remember) {
    if (size.isEmpty()) {
      forget(key);
      return CompletableFuture.completedFuture(size);
    }
    return store
        .touch(key)
        .handle(
            (v, err) -> {
              if (err != null) {
                forget(key);
                return OptionalLong.empty();
              }
              if (remember) {
                markPresent(key, size.getAsLong());
              }
              return size;
            });
  }

  /** Remembers that {@code key} holds {@code sizeBytes}, once a write, read or HEAD proved it. */
  public void markPresent(BlobKey key, long sizeBytes) {
    if (cacheEntries == 0) {
      return;
    }
    Instant expires = clock.instant().plus(ttl);
    synchronized (known) {
      known.put(key, new Known(sizeBytes, expires));
      reportedAbsent.remove(new StoredBlob(key, sizeBytes));
    }
  }

  private void rememberMissing(Set<StoredBlob> absent) {
    if (cacheEntries == 0 || absent.isEmpty()) {
      return;
    }
    Instant expires = clock.instant().plus(MISSING_TTL);
    synchronized (known) {
      for (StoredBlob b : absent) {
        reportedAbsent.put(b, expires);
      }
    }
  }

  /**
   * Whether the store reported {@code blob} absent within {@link #MISSING_TTL} and nothing stored
   * it since through this server; the answer is used up, so only the first upload after it skips
   * its question.
   */
  public boolean reportedMissing(StoredBlob blob) {
    Instant now = clock.instant();
    synchronized (known) {
      Instant until = reportedAbsent.remove(blob);
      if (until != null && now.isBefore(until)) {
        missingHits.incrementAndGet();
        return true;
      }
      return false;
    }
  }

  /** Uploads that skipped asking the store because it had just reported their blob absent. */
  public long missingHits() {
    return missingHits.get();
  }

  /** Forgets {@code key}: a read, HEAD or batch read found nothing there, or the store evicted it. */
  public void forget(BlobKey key) {
    synchronized (known) {
      if (known.remove(key) != null) {
        invalidations.incrementAndGet();
      }
    }
  }

  /** Existence requests sent to the store so far. */
  public long storeChecks() {
    return storeChecks.get();
  }

  /** Keys answered from the cache so far. */
  public long hits() {
    return hits.get();
  }

  /** Keys asked of the store because the cache did not hold them, or held them too long. */
  public long misses() {
    return misses.get();
  }

  /** Cached keys dropped because a read found them gone or the store evicted them. */
  public long invalidations() {
    return invalidations.get();
  }

  /** The most store requests that were ever in flight at once is bounded by this. */
  int running() {
    return permits.running();
  }
}
