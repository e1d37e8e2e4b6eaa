package dev.bytestreams3.storage.local;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ByteSize;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedded default store: blobs are files under a root folder. Uploads are written to their
 * own folder and published by an atomic rename, so nothing half-written is ever visible; bytes
 * count as committed once they are synced to disk together with the upload's saved state.
 *
 * <p>Layout: {@code blobs/<key>} for published blobs, {@code uploads/<id>/} for uploads in
 * progress, {@code tmp/} for single-request writes on their way to {@code blobs/}.
 */
public final class LocalBlobStore implements BlobStore {

  private final Path root;
  private final Path blobs;
  private final Path uploads;
  private final Path tmp;
  private final long checkpointBytes;
  private final ExecutorService io;
  /**
   * Where uploads sync their data files while their writes go on: a sync waits only for the disk,
   * never for other work, so file steps waiting on it cannot starve it of threads.
   */
  private final ExecutorService syncs;
  private final MemoryBudget budget;
  /**
   * The writer that holds each upload folder. One writer at a time: opening an upload fences the
   * previous writer of the same upload (a client resuming while its cut stream is still being torn
   * down), so the old writer can no longer touch the files the new one resumes from.
   */
  private final java.util.concurrent.ConcurrentHashMap<Path, LocalUpload> writers =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Where writers claim upload folders, so that two stores on one root never share a writer. */
  private final FileChannel holds;

  private final dev.bytestreams3.storage.LifecycleCounters lifecycle =
      new dev.bytestreams3.storage.LifecycleCounters();
  /** The published blobs in least-recently-used order, kept under the size limit. */
  private final DiskIndex index;
  /** Sweeps idle uploads and stray temporary files now and then. */
  private final java.util.concurrent.ScheduledExecutorService sweeps;

  /** Guards each upload folder's files; striped so that it needs no cleanup. */
  private final Object[] uploadLocks = new Object[64];

  /** How long opening an upload waits for a writer outside this store to let go of it. */
  static final Duration HELD_UPLOAD_WAIT = Duration.ofSeconds(5);

  private static final Duration HELD_UPLOAD_RETRY = Duration.ofMillis(10);

  /**
   * Bytes that uploads may keep on their way to disk, and readers ahead of their callers, when no
   * budget is given.
   */
  public static final long DEFAULT_WRITE_BEHIND_BUDGET_BYTES = 64L << 20;

  /**
   * Opens a store under {@code root}, creating it when absent, whose uploads and readers hold up
   * to {@link #DEFAULT_WRITE_BEHIND_BUDGET_BYTES} between the disk and their callers.
   *
   * @param checkpointBytes how many bytes an upload writes between syncs of its committed state
   * @param ioThreads threads doing blocking file I/O
   */
  public LocalBlobStore(Path root, long checkpointBytes, int ioThreads) {
    this(root, checkpointBytes, ioThreads, new MemoryBudget(DEFAULT_WRITE_BEHIND_BUDGET_BYTES));
  }

  /**
   * Opens a store under {@code root}, creating it when absent.
   *
   * @param checkpointBytes how many bytes an upload writes between syncs of its committed state
   * @param ioThreads threads doing blocking file I/O
   * @param budget what bytes kept on their way to disk and chunks read ahead are reserved from;
   *     when it is spent, appends wait for the disk and reads for the file instead
   */
  public LocalBlobStore(Path root, long checkpointBytes, int ioThreads, MemoryBudget budget) {
    this(root, checkpointBytes, ioThreads, budget, LocalLimits.unbounded());
  }

  /**
   * Opens a store under {@code root}, creating it when absent, kept within {@code limits}.
   *
   * @param checkpointBytes how many bytes an upload writes between syncs of its committed state
   * @param ioThreads threads doing blocking file I/O
   * @param budget what bytes kept on their way to disk and chunks read ahead are reserved from
   */
  public LocalBlobStore(
      Path root, long checkpointBytes, int ioThreads, MemoryBudget budget, LocalLimits limits) {
    requireNonNull(root, "root");
    requireNonNull(limits, "limits");
    this.budget = requireNonNull(budget, "budget");
    if (checkpointBytes <= 0) {
      throw new IllegalArgumentException(
          "checkpointBytes: " + checkpointBytes + " (expected: > 0)");
    }
    if (ioThreads <= 0) {
      throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: > 0)");
    }
    this.root = root;
    this.blobs = root.resolve("blobs");
    this.uploads = root.resolve("uploads");
    this.tmp = root.resolve("tmp");
    this.checkpointBytes = checkpointBytes;
    for (int i = 0; i < uploadLocks.length; i++) {
      uploadLocks[i] = new Object();
    }
    try {
      Files.createDirectories(blobs);
      Files.createDirectories(uploads);
      Files.createDirectories(tmp);
      this.holds =
          FileChannel.open(
              root.resolve("uploads.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new StorageException(Reason.INTERNAL, "cannot create store folders under " + root, e);
    }
    this.io = Executors.newFixedThreadPool(ioThreads, daemons("local-store-io-"));
    this.syncs = Executors.newFixedThreadPool(ioThreads, daemons("local-store-sync-"));
    this.index = new DiskIndex(blobs, limits.maxBytes(), limits.clock(), lifecycle);
    IdleSweeper sweeper = new IdleSweeper(this, uploads, tmp, limits.idleTimeout(), limits.clock());
    this.sweeps =
        Executors.newSingleThreadScheduledExecutor(daemons("local-store-sweep-"));
    long every = Math.max(1, Math.min(3600, limits.idleTimeout().toSeconds() / 4));
    sweeps.scheduleWithFixedDelay(
        () -> onIo("sweep idle uploads", sweeper::sweep), every, every, TimeUnit.SECONDS);
    this.sweeper = sweeper;
  }

  private final IdleSweeper sweeper;

  /** The most bytes of blobs and objects this store keeps. */
  public long maxBytes() {
    return index.maxBytes();
  }

  /** Whether {@link #maxBytes} is the default, half of what the store may use on its disk. */
  public boolean defaultMaxBytes() {
    return index.defaultLimit();
  }

  /** {@code local <root> (at most <limit>)}, the limit in binary units: {@code 50 GiB}, {@code 49.7 GiB}. */
  @Override
  public String describe() {
    return "local " + root + " (at most " + ByteSize.text(maxBytes()) + ")";
  }

  /** Removes idle uploads and stray temporary files now; completes with how many it removed. */
  public CompletableFuture<Integer> sweepIdle() {
    return onIo("sweep idle uploads", sweeper::sweep);
  }

  /** Keys of published blobs from least to most recently used. */
  java.util.List<BlobKey> keysOldestFirst() {
    return index.keysOldestFirst();
  }

  /** Whether an upload of this store is writing {@code folder} now. */
  boolean isWriting(Path folder) {
    return writers.containsKey(folder);
  }

  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    return onIo(
        "touch " + key,
        () -> {
          if (!Files.isRegularFile(blobPath(key))) {
            throw new StorageException(Reason.NOT_FOUND, key + " not found");
          }
          index.used(key);
          return null;
        });
  }

  @Override
  public void addEvictionListener(java.util.function.Consumer<BlobKey> listener) {
    index.addListener(requireNonNull(listener, "listener"));
  }

  @Override
  public dev.bytestreams3.storage.LifecycleCounters lifecycle() {
    return lifecycle;
  }

  private static ThreadFactory daemons(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  Path blobPath(BlobKey key) {
    return blobs.resolve(key.value());
  }

  <T> CompletableFuture<T> onIo(String what, Callable<T> task) {
    return runOn(io, what, task);
  }

  /** Runs {@code task}, a sync of a file, on the sync threads. */
  <T> CompletableFuture<T> onSync(String what, Callable<T> task) {
    return runOn(syncs, what, task);
  }

  /** Runs {@code task} on {@code threads}, its failures as {@link StorageException}s. */
  private static <T> CompletableFuture<T> runOn(
      ExecutorService threads, String what, Callable<T> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      threads.execute(
          () -> {
            try {
              result.complete(task.call());
            } catch (StorageException e) {
              result.completeExceptionally(e);
            } catch (NoSuchFileException e) {
              result.completeExceptionally(
                  new StorageException(Reason.NOT_FOUND, what + ": not found", e));
            } catch (Exception e) {
              result.completeExceptionally(
                  new StorageException(Reason.INTERNAL, what + ": " + e, e));
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      result.completeExceptionally(new StorageException(Reason.UNAVAILABLE, "store is closed", e));
    }
    return result;
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return onIo("size of " + key, () -> sizeNow(key));
  }

  OptionalLong sizeNow(BlobKey key) throws IOException {
    Path p = blobPath(key);
    return Files.isRegularFile(p) ? OptionalLong.of(Files.size(p)) : OptionalLong.empty();
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return onIo(
        "existence of " + keys.size() + " blobs",
        () -> {
          Set<BlobKey> found = new LinkedHashSet<>();
          for (BlobKey k : keys) {
            if (Files.isRegularFile(blobPath(k))) {
              found.add(k);
            }
          }
          return found;
        });
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    return onIo(
        "status of upload to " + spec.key(),
        () -> {
          Path folder = uploadFolder(spec);
          LocalUpload.State state = LocalUpload.State.read(folder);
          if (state != null && state.heldIn(folder)) {
            return new UploadStatus(state.committedBytes(), false, true);
          }
          OptionalLong published = sizeNow(spec.key());
          if (published.isPresent()) {
            return new UploadStatus(published.getAsLong(), true, true);
          }
          // A state whose bytes are gone: the upload is known, and restarts from zero.
          return state != null ? new UploadStatus(0, false, true) : UploadStatus.unknown();
        });
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    return openUpload(spec, System.nanoTime() + HELD_UPLOAD_WAIT.toNanos());
  }

  /**
   * Opens the upload, waiting up to {@code deadline} for a writer outside this store (another
   * process or store on the same root) to let go of its files.
   */
  private CompletableFuture<Upload> openUpload(UploadSpec spec, long deadline) {
    return onIo(
            "open upload to " + spec.key(),
            () -> {
              if (!spec.overwrite() && Files.exists(blobPath(spec.key()))) {
                throw new StorageException(
                    Reason.ALREADY_EXISTS, spec.key() + " already exists and may not be replaced");
              }
              Path folder = uploadFolder(spec);
              synchronized (uploadLock(folder)) {
                LocalUpload previous = writers.get(folder);
                if (previous != null) {
                  previous.fence();
                }
                FileLock hold = holdUpload(folder);
                if (hold == null) {
                  return null;
                }
                LocalUpload upload;
                try {
                  upload = LocalUpload.open(this, spec, folder, checkpointBytes, budget, hold);
                } catch (IOException | RuntimeException e) {
                  hold.release();
                  throw e;
                }
                writers.put(folder, upload);
                return upload;
              }
            })
        .thenCompose(
            upload -> {
              if (upload != null) {
                return CompletableFuture.completedFuture((Upload) upload);
              }
              if (System.nanoTime() - deadline >= 0) {
                return CompletableFuture.failedFuture(
                    new StorageException(
                        Reason.UNAVAILABLE,
                        "upload to "
                            + spec.key()
                            + " is being written by another store on the same folder;"
                            + " retry later"));
              }
              Executor later =
                  CompletableFuture.delayedExecutor(
                      HELD_UPLOAD_RETRY.toMillis(), TimeUnit.MILLISECONDS);
              return CompletableFuture.supplyAsync(() -> null, later)
                  .thenCompose(v -> openUpload(spec, deadline));
            });
  }

  /**
   * Claims {@code folder} for one writer until the returned lock is released, or returns null when
   * a writer outside this store (another store on the same root, in this process or another) holds
   * it. Each upload folder has its own byte of {@code uploads.lock}, at an offset taken from the
   * folder's name, which is already a hash.
   */
  FileLock holdUpload(Path folder) throws IOException {
    long offset = Long.parseLong(folder.getFileName().toString().substring(0, 15), 16);
    try {
      return holds.tryLock(offset, 1, false);
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  /** The lock every file operation on {@code folder} holds. */
  Object uploadLock(Path folder) {
    return uploadLocks[Math.floorMod(folder.hashCode(), uploadLocks.length)];
  }

  /** Forgets {@code upload} as its folder's writer, if it still is; call with the folder's lock. */
  void released(Path folder, LocalUpload upload) {
    writers.remove(folder, upload);
  }

  Path uploadFolder(UploadSpec spec) {
    return uploads.resolve(UploadIds.folderName(spec));
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return onIo(
        "read " + key,
        () -> {
          FileChannel ch;
          index.pin(key);
          try {
            ch = FileChannel.open(blobPath(key), StandardOpenOption.READ);
          } catch (NoSuchFileException e) {
            index.unpin(key);
            throw new StorageException(Reason.NOT_FOUND, key + " not found", e);
          }
          long size = ch.size();
          if (offset < 0 || offset > size) {
            ch.close();
            index.unpin(key);
            throw new StorageException(
                Reason.OUT_OF_RANGE,
                "offset " + offset + " is outside " + key + " of " + size + " bytes");
          }
          index.used(key);
          // Compared as a remainder, so that a limit near Long.MAX_VALUE cannot overflow the end.
          long end = limit <= 0 || limit > size - offset ? size : offset + limit;
          return new PinnedReader(
              new LocalBlobReader(this, budget, ch, size, offset, end), index, key);
        });
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    ByteBuffer d = data.duplicate();
    return onIo(
        "put " + key,
        () -> {
          Path t = tmp.resolve(UUID.randomUUID().toString());
          try {
            try (FileChannel ch =
                FileChannel.open(t, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
              while (d.hasRemaining()) {
                ch.write(d);
              }
              ch.force(true);
            }
            publish(t, key, true);
          } finally {
            // A failed write leaves no temporary file behind.
            Files.deleteIfExists(t);
          }
          return null;
        });
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    long allowed = Math.min(maxBytes, MAX_GET_BYTES);
    return onIo(
        "get " + key,
        () -> {
          // Size and bytes come from one open file: a blob replaced meanwhile is a new file, so
          // the size checked is the size read.
          try (FileChannel ch = FileChannel.open(blobPath(key), StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > allowed) {
              throw new StorageException(
                  Reason.TOO_LARGE, key + " is " + size + " bytes (expected: <= " + allowed + ")");
            }
            ByteBuffer data = ByteBuffer.allocate((int) size);
            while (data.hasRemaining()) {
              if (ch.read(data, data.position()) < 0) {
                throw new StorageException(
                    Reason.INTERNAL, key + " ended at " + data.position() + " of " + size + " bytes");
              }
            }
            index.used(key);
            return data.flip();
          } catch (NoSuchFileException e) {
            throw new StorageException(Reason.NOT_FOUND, key + " not found", e);
          }
        });
  }

  /**
   * Makes a complete, synced file the blob at {@code key} in one atomic step: a rename over any
   * blob there, or, when {@code overwrite} is false, a hard link that fails when the name is
   * taken, so that of two writers publishing at once exactly one wins and the blob is one
   * writer's bytes whole.
   */
  void publish(Path file, BlobKey key, boolean overwrite) throws IOException {
    Path target = blobPath(key);
    Files.createDirectories(target.getParent());
    long size = Files.size(file);
    if (overwrite) {
      Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } else {
      publishNew(file, target, key);
    }
    index.published(key, size);
    index.used(key);
    index.evict();
  }

  /** Publishes {@code file} at {@code target} unless a blob is there already. */
  private static void publishNew(Path file, Path target, BlobKey key) throws IOException {
    try {
      Files.createLink(target, file);
    } catch (FileAlreadyExistsException e) {
      Files.delete(file);
      throw taken(key, e);
    } catch (UnsupportedOperationException | FileSystemException noLinks) {
      // A file system without hard links: a rename that refuses an existing name, which the JDK
      // checks just before renaming, leaving a narrow window for a second writer.
      try {
        Files.move(file, target);
      } catch (FileAlreadyExistsException e) {
        Files.delete(file);
        throw taken(key, e);
      }
      return;
    }
    Files.delete(file);
  }

  private static StorageException taken(BlobKey key, Throwable cause) {
    return new StorageException(
        Reason.ALREADY_EXISTS, key + " already exists and may not be replaced", cause);
  }

  /** Stops taking work and waits briefly for queued file writes, so none outlives the store. */
  @Override
  public void close() {
    sweeps.shutdownNow();
    io.shutdown();
    // Let queued file work (a writer suspending, say) finish rather than race whoever removes the
    // folder next.
    try {
      io.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // A sync still running finishes on its own; its record, a file step, no longer runs.
    syncs.shutdown();
    try {
      holds.close();
    } catch (IOException e) {
      // Closing releases every claim; nothing is left to do when it fails.
    }
  }
}
