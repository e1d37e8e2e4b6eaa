package dev.bytestreams3.storage.tier;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ByteSize;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A size-bounded local disk tier in front of a slow store (S3). Reads of CAS blobs are served
 * from disk when the tier holds them; on a miss the blob is copied from the slow store into the
 * tier while it streams to the reader, and readers arriving meanwhile follow that one copy. Blobs
 * written through the tier go to the slow store first and land in the tier once published there.
 *
 * <p>The slow store stays the truth: existence, sizes, touches, uploads and every other key
 * (objects, and action results unless told otherwise) go straight to it ({@link ForwardingStore}),
 * and the tier never holds the only copy of anything; eviction listeners hear only the slow store's
 * evictions, since a blob leaving the tier is not gone. Tier files are checked against the digest their key names before they are served
 * (see {@link TierFiles}), kept under a byte limit by least-recent use, and found again after a
 * restart.
 *
 * <p>With an action-result max age above zero, whole reads ({@link #get}) of action results are
 * served from the tier's copy while that copy is younger than the max age, counted from when it was
 * read from the slow store or written through this tier; an older copy is read again, and a result
 * the slow store no longer holds leaves the tier too. When each copy was taken is kept in memory
 * only, so after a restart every copy is read again before it is served.
 */
public final class TieredStore extends ForwardingStore {

  private final CasKeys casKeys;
  private final TierFiles files;
  private final TierCounters counters = new TierCounters();
  private final ExecutorService io;
  private final Clock clock;
  private final Duration actionResultMaxAge;
  private final MemoryBudget budget;
  /** For fills written with direct I/O; null where the tier's file system is written through the page cache. */
  private final AlignedBuffers buffers;
  /** When the tier's copy of each action result was taken from, or written to, the slow store. */
  private final ConcurrentHashMap<BlobKey, Instant> actionResultsTaken = new ConcurrentHashMap<>();
  /** The fill in progress of each key being copied from the slow store. */
  private final ConcurrentHashMap<BlobKey, CompletableFuture<Fill>> fills =
      new ConcurrentHashMap<>();

  /**
   * Opens the tier under {@code dir} in front of {@code inner}, keeping what it finds there.
   *
   * @param maxBytes the most bytes of blobs kept; empty for half of what the tier may use on its
   *     disk (its free space plus what it holds)
   * @param ioThreads threads doing the tier's blocking file I/O and hashing
   * @param budget the memory budget that chunks read ahead of a reader are reserved from
   */
  public TieredStore(
      BlobStore inner, CasKeys casKeys, Path dir, OptionalLong maxBytes, int ioThreads,
      MemoryBudget budget, Clock clock) {
    this(inner, casKeys, dir, maxBytes, ioThreads, budget, clock, Duration.ZERO);
  }

  /**
   * As {@link #TieredStore(BlobStore, CasKeys, Path, OptionalLong, int, MemoryBudget, Clock)}, also serving
   * action results from the tier while its copy is younger than {@code actionResultMaxAge}; zero
   * sends every action result to the store behind it.
   */
  public TieredStore(
      BlobStore inner, CasKeys casKeys, Path dir, OptionalLong maxBytes, int ioThreads,
      MemoryBudget budget, Clock clock, Duration actionResultMaxAge) {
    super(inner);
    this.budget = requireNonNull(budget, "budget");
    this.clock = requireNonNull(clock, "clock");
    this.actionResultMaxAge = requireNonNull(actionResultMaxAge, "actionResultMaxAge");
    if (actionResultMaxAge.isNegative()) {
      throw new IllegalArgumentException(
          "actionResultMaxAge: " + actionResultMaxAge + " (expected: >= 0)");
    }
    this.casKeys = requireNonNull(casKeys, "casKeys");
    requireNonNull(dir, "dir");
    if (ioThreads <= 0) {
      throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: > 0)");
    }
    this.files = new TierFiles(dir, maxBytes, clock, counters);
    this.buffers = AlignedBuffers.forFileSystemOf(dir, ioThreads);
    files.index().addListener(actionResultsTaken::remove);
    AtomicInteger n = new AtomicInteger();
    this.io =
        Executors.newFixedThreadPool(
            ioThreads,
            r -> {
              Thread t = new Thread(r, "tier-io-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** What the tier served, filled, dropped and evicted. */
  public TierCounters counters() {
    return counters;
  }

  /** The most bytes of blobs the tier keeps. */
  public long maxBytes() {
    return files.maxBytes();
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    Optional<ContentCheck> check = casKeys.checkOf(key);
    if (check.isEmpty()) {
      return inner().openReader(key, offset, limit);
    }
    return openTiered(key, check.get(), offset, limit, true);
  }

  private CompletableFuture<BlobReader> openTiered(
      BlobKey key, ContentCheck check, long offset, long limit, boolean mayRetry) {
    return onIo(() -> files.openVerified(key, check))
        // A tier file that cannot be opened or checked is as good as none.
        .exceptionally(e -> null)
        .thenCompose(
            ch -> {
              if (ch != null) {
                return CompletableFuture.completedFuture(hit(key, ch, offset, limit));
              }
              CompletableFuture<Fill> running = fills.get(key);
              if (running == null && offset > 0) {
                // Only a read from the start copies the blob; a resumed read is not held up
                // behind the bytes before it.
                counters.miss();
                return inner().openReader(key, offset, limit);
              }
              if (mayRetry) {
                counters.miss();
              }
              return joinFill(key, check)
                  .handle(
                      (joined, err) -> {
                        if (err != null) {
                          Throwable cause = err.getCause() != null ? err.getCause() : err;
                          // The tier's disk failed to start the copy: the store behind it serves.
                          return cause instanceof DiskFault
                              ? inner().openReader(key, offset, limit)
                              : CompletableFuture.<BlobReader>failedFuture(err);
                        }
                        Fill fill = joined.fill();
                        if (fill == null) {
                          // Larger than the whole tier: read from the store behind it alone.
                          return inner().openReader(key, offset, limit);
                        }
                        if (!joined.started() && !fill.attach()) {
                          // Downloaded and being checked, or failed: once it is over, the tier
                          // holds the checked copy, or the blob is read afresh.
                          return mayRetry
                              ? fill.over()
                                  .thenCompose(v -> openTiered(key, check, offset, limit, false))
                              : inner().openReader(key, offset, limit);
                        }
                        return CompletableFuture.completedFuture(
                            reader(key, fill, offset, limit));
                      })
                  .thenCompose(f -> f);
            });
  }

  private BlobReader hit(BlobKey key, FileChannel ch, long offset, long limit) {
    long size;
    try {
      size = ch.size();
    } catch (IOException e) {
      throw new StorageException(Reason.INTERNAL, "tier read of " + key + ": " + e, e);
    }
    StoredFile file = new StoredFile(ch, size, () -> files.index().unpin(key));
    counters.hit(size);
    return reader(key, file, offset, limit);
  }

  /** A reader of {@code [offset, offset + limit)} of {@code source}, which it releases when done. */
  private BlobReader reader(BlobKey key, TierSource source, long offset, long limit) {
    long size = source.blobSize();
    if (offset < 0 || offset > size) {
      source.release();
      throw new StorageException(
          Reason.OUT_OF_RANGE, "offset " + offset + " is outside " + key + " of " + size + " bytes");
    }
    // Compared as a remainder, so that a limit near Long.MAX_VALUE cannot overflow the end.
    long end = limit <= 0 || limit > size - offset ? size : offset + limit;
    return new TierReader(
        source, io, budget, offset, end, from -> inner().openReader(key, from, end - from));
  }

  /**
   * The fill of {@code key} running now, or a new one started for this reader; its fill is null
   * when the blob is larger than the tier may hold, and it fails as opening a reader of the store
   * behind it fails.
   */
  private CompletableFuture<Joined> joinFill(BlobKey key, ContentCheck check) {
    CompletableFuture<Fill> mine = new CompletableFuture<>();
    CompletableFuture<Fill> running = fills.putIfAbsent(key, mine);
    if (running != null) {
      return running.thenApply(f -> new Joined(f, false));
    }
    inner()
        .openReader(key, 0, 0)
        .thenApplyAsync(
            r -> {
              if (r.blobSize() > files.maxBytes()) {
                r.close();
                return null;
              }
              try {
                return Fill.start(
                    key, check, r, files, io, budget, buffers, () -> fills.remove(key, mine));
              } catch (IOException e) {
                throw new DiskFault("tier fill of " + key + ": " + e, e);
              }
            },
            io)
        .whenComplete(
            (fill, err) -> {
              if (fill == null) {
                // Not remembered: the next read asks again.
                fills.remove(key, mine);
              }
              if (err != null) {
                mine.completeExceptionally(err);
              } else {
                mine.complete(fill);
              }
            });
    return mine.thenApply(f -> new Joined(f, true));
  }

  /** A fill to read, and whether this reader started it (and so is attached to it already). */
  private record Joined(Fill fill, boolean started) {}

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    Optional<ContentCheck> check = casKeys.checkOf(key);
    if (check.isEmpty()) {
      return tiersActionResults() && ActionResultKeys.isActionResult(key)
          ? getActionResult(key, maxBytes)
          : inner().get(key, maxBytes);
    }
    long allowed = Math.min(maxBytes, MAX_GET_BYTES);
    return onIo(() -> readWhole(key, check.get(), allowed))
        .thenCompose(
            data -> {
              if (data != null) {
                return CompletableFuture.completedFuture(data);
              }
              counters.miss();
              return inner()
                  .get(key, maxBytes)
                  .thenCompose(got -> keep(key, got, true).thenApply(v -> got));
            });
  }

  private boolean tiersActionResults() {
    return !actionResultMaxAge.isZero();
  }

  /**
   * The action result at {@code key}: the tier's copy while it is younger than the max age, else
   * the slow store's, which replaces the tier's copy (or removes it, when the slow store has none).
   */
  private CompletableFuture<ByteBuffer> getActionResult(BlobKey key, long maxBytes) {
    long allowed = Math.min(maxBytes, MAX_GET_BYTES);
    return onIo(() -> fresh(key) ? readWholeUnchecked(key, allowed) : null)
        // A tier file that cannot be read is as good as none.
        .exceptionally(e -> null)
        .thenCompose(
            data -> {
              if (data != null) {
                return CompletableFuture.completedFuture(data);
              }
              counters.miss();
              // Taken as of before the read, so the copy's age is never understated.
              Instant taken = clock.instant();
              return inner()
                  .get(key, maxBytes)
                  .handle(
                      (got, err) -> {
                        if (err == null) {
                          return keepActionResult(key, got, taken).thenApply(v -> got);
                        }
                        Throwable cause = err.getCause() != null ? err.getCause() : err;
                        if (cause instanceof StorageException se
                            && se.reason() == Reason.NOT_FOUND) {
                          return dropActionResult(key)
                              .thenCompose(v -> CompletableFuture.<ByteBuffer>failedFuture(err));
                        }
                        return CompletableFuture.<ByteBuffer>failedFuture(err);
                      })
                  .thenCompose(f -> f);
            });
  }

  /** Whether the tier's copy of the action result {@code key} was taken less than max age ago. */
  private boolean fresh(BlobKey key) {
    Instant taken = actionResultsTaken.get(key);
    return taken != null && taken.plus(actionResultMaxAge).isAfter(clock.instant());
  }

  /** The whole tier file of {@code key}, unchecked, or null when the tier holds none. */
  private ByteBuffer readWholeUnchecked(BlobKey key, long allowed) throws IOException {
    FileChannel ch = files.openUnchecked(key);
    if (ch == null) {
      actionResultsTaken.remove(key);
      return null;
    }
    return readPinned(key, ch, allowed);
  }

  /** Writes {@code data} as the tier's copy of the action result {@code key}, taken at {@code taken}. */
  private CompletableFuture<Void> keepActionResult(BlobKey key, ByteBuffer data, Instant taken) {
    actionResultsTaken.remove(key);
    return kept(key, data, false)
        .thenCompose(
            published -> {
              if (published) {
                actionResultsTaken.put(key, taken);
                return CompletableFuture.completedFuture(null);
              }
              // An older copy left in place must not pass for this one.
              return dropActionResult(key);
            });
  }

  /** Removes the tier's copy of the action result {@code key}; a failure leaves it unserved. */
  private CompletableFuture<Void> dropActionResult(BlobKey key) {
    actionResultsTaken.remove(key);
    return TieredStore.<Void>onIo(
            io,
            () -> {
              files.drop(key);
              return null;
            })
        .exceptionally(e -> null);
  }

  /** The whole tier file of {@code key}, or null when the tier holds none. */
  private ByteBuffer readWhole(BlobKey key, ContentCheck check, long allowed) throws IOException {
    FileChannel ch = files.openVerified(key, check);
    return ch == null ? null : readPinned(key, ch, allowed);
  }

  /** Reads {@code ch}, the pinned tier file of {@code key}, whole; null when it ends early. */
  private ByteBuffer readPinned(BlobKey key, FileChannel ch, long allowed) throws IOException {
    try (ch) {
      long size = ch.size();
      if (size > allowed) {
        throw new StorageException(
            Reason.TOO_LARGE, key + " is " + size + " bytes (expected: <= " + allowed + ")");
      }
      ByteBuffer data = ByteBuffer.allocate((int) size);
      while (data.hasRemaining()) {
        if (ch.read(data, data.position()) < 0) {
          return null;
        }
      }
      counters.hit(size);
      return data.flip();
    } finally {
      files.index().unpin(key);
    }
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    ByteBuffer copy = data.duplicate();
    if (casKeys.checkOf(key).isEmpty()) {
      if (tiersActionResults() && ActionResultKeys.isActionResult(key)) {
        Instant taken = clock.instant();
        actionResultsTaken.remove(key);
        return inner().put(key, data).thenCompose(v -> keepActionResult(key, copy, taken));
      }
      return inner().put(key, data);
    }
    CompletableFuture<Void> put = inner().put(key, data);
    return put.thenCompose(v -> keep(key, copy, false));
  }

  /**
   * Writes {@code data}, now published in the slow store, as the tier's copy of {@code key}; a
   * failure only leaves the tier without it. {@code fromStore} copies are checked against the
   * digest first; others are checked when first served.
   */
  private CompletableFuture<Void> keep(BlobKey key, ByteBuffer data, boolean fromStore) {
    return kept(key, data, fromStore).thenApply(published -> null);
  }

  /** As {@link #keep}, completing with whether {@code data} is now the tier's copy. */
  private CompletableFuture<Boolean> kept(BlobKey key, ByteBuffer data, boolean fromStore) {
    if (data.remaining() > files.maxBytes()) {
      return CompletableFuture.completedFuture(false);
    }
    ByteBuffer d = data.duplicate();
    return TieredStore.<Boolean>onIo(
            io,
            () -> {
              boolean verified = false;
              if (fromStore) {
                ContentCheck check = casKeys.checkOf(key).orElseThrow();
                var hasher = check.function().newHasher();
                hasher.update(d);
                if (!java.security.MessageDigest.isEqual(
                    hasher.digest(), check.expectedDigest())) {
                  return false;
                }
                verified = true;
              }
              Path temp = files.newTemp();
              try (FileChannel ch =
                  FileChannel.open(
                      temp, java.nio.file.StandardOpenOption.CREATE_NEW,
                      java.nio.file.StandardOpenOption.WRITE)) {
                while (d.hasRemaining()) {
                  ch.write(d);
                }
              }
              files.publish(temp, key, verified);
              return true;
            })
        .exceptionally(e -> false);
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    CompletableFuture<Upload> opened = inner().openUpload(spec);
    if (casKeys.checkOf(spec.key()).isEmpty()
        || !spec.verified()
        || spec.expectedSize() > files.maxBytes()) {
      return opened;
    }
    return opened.thenApply(
        u -> u.committedSize() == 0 ? new TeeUpload(u, spec.key(), files, io, buffers) : u);
  }







  private <T> CompletableFuture<T> onIo(Callable<T> task) {
    return onIo(io, task);
  }

  private static <T> CompletableFuture<T> onIo(ExecutorService io, Callable<T> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      io.execute(
          () -> {
            try {
              result.complete(task.call());
            } catch (StorageException e) {
              result.completeExceptionally(e);
            } catch (Exception e) {
              result.completeExceptionally(
                  new StorageException(Reason.INTERNAL, "local tier: " + e, e));
            }
          });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new StorageException(Reason.UNAVAILABLE, "store is closed", e));
    }
    return result;
  }

  @Override
  public void close() {
    io.shutdown();
    try {
      io.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    inner().close();
  }

  /** {@code tiered(local <dir> (at most <size>) -> <inner>)}, in ASCII as log lines are. */
  @Override
  public String describe() {
    return "tiered(local " + files.root() + " (at most " + ByteSize.text(files.maxBytes()) + ") -> "
        + inner().describe() + ")";
  }

  @Override
  public String toString() {
    return describe();
  }
}
