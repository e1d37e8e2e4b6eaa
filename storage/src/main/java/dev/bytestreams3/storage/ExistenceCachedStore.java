package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A store that answers existence checks ({@link #size}, {@link #sizes}, {@link #findExisting})
 * from memory where it can, and keeps that memory true.
 *
 * <p>A blob is present only when the inner store holds it and has been told it is in use ({@link
 * BlobStore#touch}), which keeps it from an expiry rule for a while; a blob whose touch fails is
 * reported absent, so that the client uploads it again rather than relying on it. Blobs known
 * present are remembered, with their sizes, in a bounded cache for at most {@code ttl} from the
 * moment the inner store proved them (an existence check, a whole-blob read, a write), and
 * forgotten the moment a read finds them gone or the inner store evicts them. Keys the cache does
 * not hold are asked of the inner store one request per key, with a fixed number of requests in
 * flight across all callers, so a check of thousands of keys never becomes thousands of parallel
 * requests. Every blob served is touched beside the serving, without delaying it.
 *
 * <p>Blobs the inner store just reported absent are remembered too, for {@link #ABSENT_TTL} and
 * up to {@code cacheEntries} of them, so that the upload a client starts after FindMissingBlobs
 * told it to need not ask again ({@link #holdsBeforeUpload}). That memory only ever saves a
 * question, once per answer: a blob stored meanwhile by another replica is uploaded once more,
 * which a content-addressed store allows, and it is never used to report a blob absent.
 */
public final class ExistenceCachedStore extends ForwardingStore {

  /** How long a blob the inner store reported absent is taken to be absent by an upload of it. */
  public static final Duration ABSENT_TTL = Duration.ofMinutes(2);

  private record Known(long sizeBytes, Instant expires) {}

  private final AsyncPermits permits;
  private final Map<BlobKey, Known> known;
  /** Keys the inner store reported absent, until when; guarded by {@code known}. */
  private final Map<BlobKey, Instant> reportedAbsent;
  private final int cacheEntries;
  private final Duration ttl;
  private final Clock clock;
  private final AtomicLong storeChecks = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong invalidations = new AtomicLong();
  private final AtomicLong absentHits = new AtomicLong();

  /**
   * @param cacheEntries how many present blobs to remember; 0 remembers none
   * @param checksInFlight existence requests to the inner store running at once, across all calls
   * @param ttl how long a present blob is remembered
   * @param clock what {@code ttl} is measured by
   */
  public ExistenceCachedStore(
      BlobStore inner, int cacheEntries, int checksInFlight, Duration ttl, Clock clock) {
    super(inner);
    this.ttl = requireNonNull(ttl, "ttl");
    this.clock = requireNonNull(clock, "clock");
    if (cacheEntries < 0) {
      throw new IllegalArgumentException("cacheEntries: " + cacheEntries + " (expected: >= 0)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
    }
    this.permits = new AsyncPermits(checksInFlight);
    this.cacheEntries = cacheEntries;
    this.known =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<BlobKey, Known> eldest) {
            return size() > ExistenceCachedStore.this.cacheEntries;
          }
        };
    this.reportedAbsent =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<BlobKey, Instant> eldest) {
            return size() > ExistenceCachedStore.this.cacheEntries;
          }
        };
    inner.addEvictionListener(this::forget);
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return sizes(List.of(key))
        .thenApply(
            s -> s.containsKey(key) ? OptionalLong.of(s.get(key)) : OptionalLong.empty());
  }

  @Override
  public CompletableFuture<Boolean> holdsBeforeUpload(BlobKey key, long sizeBytes) {
    if (tookAbsence(key)) {
      return CompletableFuture.completedFuture(false);
    }
    return size(key).thenApply(s -> s.isPresent() && s.getAsLong() == sizeBytes);
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return sizes(keys).thenApply(s -> new LinkedHashSet<>(s.keySet()));
  }

  @Override
  public CompletableFuture<Map<BlobKey, Long>> sizes(Collection<BlobKey> keys) {
    List<BlobKey> asked = List.copyOf(new LinkedHashSet<>(keys));
    Map<BlobKey, CompletableFuture<OptionalLong>> each = new LinkedHashMap<>();
    Instant now = clock.instant();
    synchronized (known) {
      for (BlobKey k : asked) {
        Known entry = known.get(k);
        if (entry != null && now.isBefore(entry.expires())) {
          hits.incrementAndGet();
          each.put(k, inUse(k, OptionalLong.of(entry.sizeBytes()), false));
        } else if (entry != null) {
          known.remove(k);
        }
      }
    }
    for (BlobKey k : asked) {
      each.computeIfAbsent(
          k,
          key -> {
            misses.incrementAndGet();
            return permits
                .run(
                    () -> {
                      storeChecks.incrementAndGet();
                      return inner().size(key);
                    })
                .thenCompose(size -> inUse(key, size, true))
                .whenComplete(
                    (size, err) -> {
                      if (size != null && size.isEmpty()) {
                        rememberAbsent(key);
                      }
                    });
          });
    }
    return CompletableFuture.allOf(each.values().toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Map<BlobKey, Long> present = new LinkedHashMap<>();
              for (BlobKey k : asked) {
                OptionalLong size = each.get(k).join();
                if (size.isPresent()) {
                  present.put(k, size.getAsLong());
                }
              }
              return present;
            });
  }

  /**
   * Tells the inner store that a blob about to be reported present is in use, and remembers it
   * once the store has kept it ({@code remember}: an answer from the store, not from this cache,
   * whose entries never outlive their TTL); a blob the store cannot keep (gone, or its refresh
   * failed) is reported absent.
   */
  private CompletableFuture<OptionalLong> inUse(BlobKey key, OptionalLong size, boolean remember) {
    if (size.isEmpty()) {
      forget(key);
      return CompletableFuture.completedFuture(size);
    }
    return inner()
        .touch(key)
        .handle(
            (v, err) -> {
              if (err != null) {
                forget(key);
                return OptionalLong.empty();
              }
              if (remember) {
                remember(key, size.getAsLong());
              }
              return size;
            });
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return watched(key, inner().openReader(key, offset, limit));
  }

  /** A whole blob read proves its size: it is remembered once the inner store has kept it. */
  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    return inner()
        .get(key, maxBytes)
        .whenComplete(
            (data, err) -> {
              if (err != null) {
                forgetIfGone(key, err);
              } else {
                long sizeBytes = data.remaining();
                // Nothing waits for it: a touch that fails leaves the next existence check to tell.
                inner().touch(key).thenRun(() -> remember(key, sizeBytes));
              }
            });
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    long sizeBytes = data.remaining();
    return inner().put(key, data).thenRun(() -> remember(key, sizeBytes));
  }

  /** A verified (content-addressed) upload that publishes its blob makes it known present. */
  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    CompletableFuture<Upload> opened = inner().openUpload(spec);
    return spec.verified() ? opened.thenApply(u -> new RememberedUpload(u, spec.key())) : opened;
  }

  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    return inner().touch(key).whenComplete((v, err) -> forgetIfGone(key, err));
  }

  @Override
  public String describe() {
    return "existence-cached(ttl " + ttl.toString().substring(2).toLowerCase(Locale.ROOT) + ", "
        + cacheEntries + " entries, " + inner().describe() + ")";
  }

  private <T> CompletableFuture<T> watched(BlobKey key, CompletableFuture<T> read) {
    return read.whenComplete(
        (v, err) -> {
          if (err != null) {
            forgetIfGone(key, err);
          } else {
            // Nothing waits for it: a touch that fails leaves the next existence check to tell.
            inner().touch(key);
          }
        });
  }

  private void forgetIfGone(BlobKey key, Throwable err) {
    if (err != null && StorageException.from(err).reason() == StorageException.Reason.NOT_FOUND) {
      forget(key);
    }
  }

  private void remember(BlobKey key, long sizeBytes) {
    if (cacheEntries == 0) {
      return;
    }
    Instant expires = clock.instant().plus(ttl);
    synchronized (known) {
      known.put(key, new Known(sizeBytes, expires));
      reportedAbsent.remove(key);
    }
  }

  private void rememberAbsent(BlobKey key) {
    if (cacheEntries == 0) {
      return;
    }
    Instant expires = clock.instant().plus(ABSENT_TTL);
    synchronized (known) {
      reportedAbsent.put(key, expires);
    }
  }

  /** Whether the inner store reported {@code key} absent within {@link #ABSENT_TTL}; used up. */
  private boolean tookAbsence(BlobKey key) {
    Instant now = clock.instant();
    synchronized (known) {
      Instant until = reportedAbsent.remove(key);
      if (until != null && now.isBefore(until)) {
        absentHits.incrementAndGet();
        return true;
      }
      return false;
    }
  }

  private void forget(BlobKey key) {
    synchronized (known) {
      if (known.remove(key) != null) {
        invalidations.incrementAndGet();
      }
    }
  }

  /** Uploads that did not ask the inner store because it had just reported their blob absent. */
  public long absentHits() {
    return absentHits.get();
  }

  /** Existence requests sent to the inner store so far. */
  public long storeChecks() {
    return storeChecks.get();
  }

  /** Keys answered from the cache so far. */
  public long hits() {
    return hits.get();
  }

  /** Keys asked of the inner store because the cache did not hold them, or held them too long. */
  public long misses() {
    return misses.get();
  }

  /** Cached keys dropped because a read found them gone or the inner store evicted them. */
  public long invalidations() {
    return invalidations.get();
  }

  /** Existence requests to the inner store running now. */
  int checksRunning() {
    return permits.running();
  }

  /** An upload that, once it publishes its blob, remembers the blob as present. */
  private final class RememberedUpload implements Upload {

    private final Upload upload;
    private final BlobKey key;

    RememberedUpload(Upload upload, BlobKey key) {
      this.upload = upload;
      this.key = key;
    }

    @Override
    public long committedSize() {
      return upload.committedSize();
    }

    @Override
    public long position() {
      return upload.position();
    }

    @Override
    public CompletableFuture<Void> append(ByteBuffer data) {
      return upload.append(data);
    }

    @Override
    public CompletableFuture<Void> appendUnchanging(ByteBuffer data) {
      return upload.appendUnchanging(data);
    }

    @Override
    public CompletableFuture<Long> finish() {
      return upload
          .finish()
          .thenApply(
              sizeBytes -> {
                remember(key, sizeBytes);
                return sizeBytes;
              });
    }

    @Override
    public CompletableFuture<Long> suspend() {
      return upload.suspend();
    }

    @Override
    public void detach() {
      upload.detach();
    }

    @Override
    public CompletableFuture<Void> abort() {
      return upload.abort();
    }
  }
}
