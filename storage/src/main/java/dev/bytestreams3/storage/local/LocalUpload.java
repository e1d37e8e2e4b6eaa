package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.ContentVerifier;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * An upload into its own folder: a {@code data} file and a {@code state} file saying how many of
 * its bytes are synced and the hash state after them.
 *
 * <p>File work runs on the store's I/O threads, one step at a time in the order the writer asked
 * for it. An append is written behind the writer: while this upload has fewer than {@link
 * #WRITE_BEHIND_BYTES} waiting and the memory budget has room, its bytes are kept (copied, unless
 * they never change) and the append completes at once, so the writer receives its next bytes
 * while the disk takes these. Otherwise the append completes when its bytes are written. A write
 * that fails fails the next call.
 *
 * <p>Every {@code checkpointBytes} written, the data file is synced on the store's sync threads
 * while the writes after it go on, and a file step then records the bytes that sync covered, with
 * the hash state after them, in the state file; one sync runs at a time.
 */
final class LocalUpload implements Upload {

  /** Bytes of one upload that may wait for the disk after their append completed. */
  static final long WRITE_BEHIND_BYTES = 4L << 20;

  private final LocalBlobStore store;
  private final UploadSpec spec;
  private final Path folder;
  private final long checkpointBytes;
  private final long committedAtOpen;
  private final ContentVerifier verifier;
  private final MemoryBudget budget;
  /** This writer's claim on the folder; released once it no longer touches the folder. */
  private final FileLock hold;

  /** The last file step asked for; the next one runs after it. Guarded by {@code this}. */
  private CompletableFuture<Void> steps = CompletableFuture.completedFuture(null);

  /** Bytes accepted, written or not. Guarded by {@code this}. */
  private long position;

  /** Bytes accepted and not yet written. Guarded by {@code this}. */
  private long waitingBytes;

  /** The first failure of a write behind the writer. Guarded by {@code this}. */
  private StorageException failure;

  // Touched only with the folder's lock: by file steps, which run one at a time, and by fence().
  private FileChannel data;
  private long written;
  /** Bytes the last state file counts as committed: what a later writer resumes from. */
  private long lastCheckpoint;
  /** Bytes written when the last sync of the data file was asked for. */
  private long syncAsked;
  /** Whether a sync of the data file runs beside the writes that follow it. */
  private boolean syncing;
  private boolean closed;
  private boolean fenced;

  private LocalUpload(
      LocalBlobStore store,
      UploadSpec spec,
      Path folder,
      long checkpointBytes,
      FileChannel data,
      FileLock hold,
      long committed,
      ContentVerifier verifier,
      MemoryBudget budget) {
    this.store = store;
    this.budget = budget;
    this.spec = spec;
    this.folder = folder;
    this.checkpointBytes = checkpointBytes;
    this.data = data;
    this.hold = hold;
    this.committedAtOpen = committed;
    this.position = committed;
    this.written = committed;
    this.lastCheckpoint = committed;
    this.syncAsked = committed;
    this.verifier = verifier;
  }

  /**
   * Opens or resumes the upload in {@code folder}, whose {@code hold} this writer now owns; runs on
   * an I/O thread.
   */
  static LocalUpload open(
      LocalBlobStore store,
      UploadSpec spec,
      Path folder,
      long checkpointBytes,
      MemoryBudget budget,
      FileLock hold)
      throws IOException {
    Files.createDirectories(folder);
    State state = State.read(folder);
    if (state != null && !state.heldIn(folder)) {
      state = null;
    }
    long committed = 0;
    ContentVerifier verifier = null;
    if (state != null && (!spec.verified() || state.hashState().isPresent())) {
      committed = state.committedBytes();
      verifier = ContentVerifier.resume(spec, state.hashState());
    } else {
      verifier = ContentVerifier.start(spec);
    }
    FileChannel ch =
        FileChannel.open(
            folder.resolve("data"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    // Bytes past the committed size were never acknowledged; drop them.
    ch.truncate(committed);
    ch.position(committed);
    LocalUpload upload =
        new LocalUpload(
            store, spec, folder, checkpointBytes, ch, hold, committed, verifier, budget);
    if (state == null) {
      upload.stateNow().write(folder);
    }
    return upload;
  }

  @Override
  public long committedSize() {
    return committedAtOpen;
  }

  @Override
  public synchronized long position() {
    return position;
  }

  @Override
  public CompletableFuture<Void> append(ByteBuffer bytes) {
    return append(bytes, false);
  }

  @Override
  public CompletableFuture<Void> appendUnchanging(ByteBuffer bytes) {
    return append(bytes, true);
  }

  /** Appends {@code bytes}, copying them to write behind the writer unless they never change. */
  private CompletableFuture<Void> append(ByteBuffer bytes, boolean unchanging) {
    int n = bytes.remaining();
    MemoryBudget.Reservation held;
    synchronized (this) {
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      held = waitingBytes + n <= WRITE_BEHIND_BYTES ? budget.tryReserve(n) : null;
    }
    ByteBuffer body;
    if (held != null && !unchanging) {
      body = ByteBuffer.allocate(n);
      body.put(bytes.duplicate()).flip();
    } else {
      // Either the append waits for its write, or its bytes never change (and the reservation
      // counts them while they wait): no copy is needed.
      body = bytes.duplicate();
    }
    CompletableFuture<Void> step;
    synchronized (this) {
      position += n;
      waitingBytes += n;
      step = then("append to " + spec.key(), () -> write(body));
    }
    step.whenComplete(
        (v, err) -> {
          synchronized (this) {
            waitingBytes -= n;
            if (err != null && failure == null) {
              failure = StorageException.from(err);
            }
          }
          if (held != null) {
            held.close();
          }
        });
    return held != null ? CompletableFuture.completedFuture(null) : step;
  }

  /** Writes {@code b} after every byte before it; runs as a file step. */
  private Void write(ByteBuffer b) throws IOException {
    synchronized (store.uploadLock(folder)) {
      checkOpen();
      // Hashed only once written, so that a saved hash state never covers bytes the file lacks.
      ByteBuffer hashed = b.duplicate();
      int n = b.remaining();
      while (b.hasRemaining()) {
        data.write(b);
      }
      verifier.update(hashed);
      written += n;
      if (!syncing && written - syncAsked >= checkpointBytes) {
        startSync();
      }
      return null;
    }
  }

  /**
   * Syncs the bytes written so far on the store's sync threads while the writes that follow go on,
   * and records them in the state file, as a file step, once they are synced; runs as a file step.
   * The next sync starts only after that record, so one runs at a time per upload.
   */
  private void startSync() {
    State after = stateNow();
    FileChannel file = data;
    syncAsked = written;
    CompletableFuture<Void> sync =
        store.onSync(
            "sync upload to " + spec.key(),
            () -> {
              file.force(false);
              return null;
            });
    syncing = true;
    sync.whenComplete(
        (v, err) -> {
          synchronized (this) {
            then("record upload to " + spec.key(), () -> record(sync, after));
          }
        });
  }

  /** Saves {@code after} once {@code sync} has synced the bytes it counts; runs as a file step. */
  private Void record(CompletableFuture<Void> sync, State after) throws IOException {
    synchronized (store.uploadLock(folder)) {
      if (closed) {
        // The writer ended; its own last checkpoint, or a newer writer's, is what counts now.
        return null;
      }
      syncing = false;
      try {
        sync.join();
      } catch (CompletionException e) {
        throw StorageException.from(e);
      }
      after.write(folder);
      lastCheckpoint = after.committedBytes();
      if (written - syncAsked >= checkpointBytes) {
        startSync();
      }
      return null;
    }
  }

  /**
   * Runs {@code task} on an I/O thread once every step asked for before it has succeeded; call
   * with this object's lock.
   */
  private <T> CompletableFuture<T> then(String what, Callable<T> task) {
    return after(steps, what, task);
  }

  /** As {@link #then}, but after the steps before it ended however. */
  private <T> CompletableFuture<T> afterAll(String what, Callable<T> task) {
    return after(steps.handle((v, err) -> null), what, task);
  }

  private <T> CompletableFuture<T> after(
      CompletableFuture<?> before, String what, Callable<T> task) {
    CompletableFuture<T> step = before.thenCompose(v -> store.onIo(what, task));
    steps = step.thenApply(v -> null);
    return step;
  }

  @Override
  public CompletableFuture<Long> finish() {
    synchronized (this) {
      if (failure != null) {
        StorageException failed = failure;
        return afterAll("release upload to " + spec.key(), this::release)
            .thenCompose(v -> CompletableFuture.failedFuture(failed));
      }
      return then(
          "finish upload to " + spec.key(),
          () -> {
            synchronized (store.uploadLock(folder)) {
              checkOpen();
              closed = true;
              store.released(folder, this);
              try {
                try {
                  verifier.verify(written);
                } catch (StorageException e) {
                  data.close();
                  deleteFolder();
                  throw e;
                }
                data.force(true);
                data.close();
                try {
                  store.publish(folder.resolve("data"), spec.key(), spec.overwrite());
                } catch (StorageException refused) {
                  // Another writer's blob holds the name: nothing is left to resume.
                  deleteFolder();
                  throw refused;
                }
                deleteFolder();
                return written;
              } finally {
                letGo();
              }
            }
          });
    }
  }

  @Override
  public CompletableFuture<Long> suspend() {
    synchronized (this) {
      return afterAll("suspend upload to " + spec.key(), this::release);
    }
  }

  /** Ends this writer, keeping what it wrote durable; returns what a later writer resumes from. */
  private long release() throws IOException {
    synchronized (store.uploadLock(folder)) {
      if (!closed) {
        closed = true;
        store.released(folder, this);
        try {
          checkpoint();
        } finally {
          letGo();
        }
      }
      return lastCheckpoint;
    }
  }

  @Override
  public void detach() {
    suspend();
  }

  @Override
  public CompletableFuture<Void> abort() {
    synchronized (this) {
      return afterAll(
          "abort upload to " + spec.key(),
          () -> {
            synchronized (store.uploadLock(folder)) {
              if (fenced) {
                // A newer writer owns the folder now; discarding is its decision.
                return null;
              }
              closed = true;
              store.released(folder, this);
              // A writer that let go already (suspended or failed) claims the folder again:
              // once a newer writer, of this store or another, holds it, it is not ours to discard.
              FileLock claim = hold.isValid() ? hold : store.holdUpload(folder);
              if (claim == null) {
                return null;
              }
              try {
                data.close();
                deleteFolder();
              } finally {
                if (claim.isValid()) {
                  claim.release();
                }
              }
              return null;
            }
          });
    }
  }

  /**
   * Stops this writer because a newer one opened the same upload; runs with the folder's lock. What
   * it wrote after its last checkpoint is not committed and is dropped by the new writer.
   */
  void fence() throws IOException {
    if (!closed) {
      closed = true;
      fenced = true;
      letGo();
    }
  }

  /**
   * Closes the data file and gives up the claim on the folder, after which this writer touches
   * nothing in it; closing is idempotent, and a claim is already gone once the store is closed.
   */
  private void letGo() throws IOException {
    try {
      data.close();
    } finally {
      if (hold.isValid()) {
        hold.release();
      }
    }
  }

  private void checkOpen() {
    if (fenced) {
      throw new StorageException(
          Reason.CONFLICT, "another write to the same resource took over this upload");
    }
    if (closed) {
      throw new StorageException(Reason.INVALID_REQUEST, "upload to " + spec.key() + " is closed");
    }
  }

  /** Syncs every byte written and records them; a sync still running beside it changes nothing. */
  private void checkpoint() throws IOException {
    data.force(false);
    State now = stateNow();
    now.write(folder);
    lastCheckpoint = now.committedBytes();
  }

  /**
   * The state after every byte written: they count as committed, or none do when the hash state
   * cannot be saved, since a resumed upload must be verified in full.
   */
  private State stateNow() {
    return new State(
        spec.key().value(), verifier.resumable() ? written : 0, verifier.saveState());
  }

  private void deleteFolder() throws IOException {
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (NoSuchFileException e) {
      // Already gone: another writer finished or aborted the same upload.
    }
  }

  /**
   * The saved state of an upload: how many bytes are synced, and the hash state after them.
   *
   * <p>A state is written only after the bytes it counts are synced, to a new file renamed over the
   * last; the file itself is not synced, which would cost a second flush at every checkpoint. After
   * a power loss the state is therefore the last one or an earlier one, each counting only bytes on
   * disk, or a file cut short: a checksum of its fields tells a whole state from a torn one, and a
   * torn state is no state, so the upload starts again from zero rather than from bytes it lacks.
   */
  record State(String key, long committedBytes, Optional<byte[]> hashState) {

    /**
     * Whether the data file in {@code folder} holds every byte this state counts. A file can be
     * cut short only outside the store (a crash after publishing renamed it away, a hand at the
     * disk); its missing bytes are lost, and extending it would publish zeros, so an upload whose
     * state it is restarts from zero.
     */
    boolean heldIn(Path folder) throws IOException {
      if (committedBytes == 0) {
        return true;
      }
      try {
        return Files.size(folder.resolve("data")) >= committedBytes;
      } catch (NoSuchFileException e) {
        return false;
      }
    }

    /** Reads the state in {@code folder}; null when there is none, or none whole. */
    static State read(Path folder) throws IOException {
      Path file = folder.resolve("state");
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(file)) {
        p.load(in);
      } catch (NoSuchFileException e) {
        return null;
      } catch (IllegalArgumentException torn) {
        return null;
      }
      String key = p.getProperty("key");
      String committed = p.getProperty("committedBytes");
      String hash = p.getProperty("hashState");
      String check = p.getProperty("check");
      if (key == null || committed == null) {
        return null;
      }
      // States written before the checksum were synced, so they are whole when they parse.
      if (check != null && !check.equals(checksum(key, committed, hash))) {
        return null;
      }
      try {
        return new State(
            key,
            Long.parseLong(committed),
            hash == null ? Optional.empty() : Optional.of(Base64.getDecoder().decode(hash)));
      } catch (IllegalArgumentException torn) {
        return null;
      }
    }

    void write(Path folder) throws IOException {
      Properties p = new Properties();
      String committed = Long.toString(committedBytes);
      String hash = hashState.map(h -> Base64.getEncoder().encodeToString(h)).orElse(null);
      p.setProperty("key", key);
      p.setProperty("committedBytes", committed);
      if (hash != null) {
        p.setProperty("hashState", hash);
      }
      Path t = folder.resolve("state.tmp");
      try (OutputStream out = Files.newOutputStream(t)) {
        // The checksum comes first, so whatever a cut takes from the end changes a field it covers.
        out.write(
            ("check=" + checksum(key, committed, hash) + "\n").getBytes(StandardCharsets.ISO_8859_1));
        p.store(out, null);
      }
      Files.move(t, folder.resolve("state"), StandardCopyOption.ATOMIC_MOVE);
    }

    /** CRC-32C of the fields, in hex: enough to tell a file cut short from a whole one. */
    private static String checksum(String key, String committed, String hash) {
      CRC32C crc = new CRC32C();
      crc.update((key + "\n" + committed + "\n" + (hash == null ? "" : hash))
          .getBytes(StandardCharsets.UTF_8));
      return Long.toHexString(crc.getValue());
    }
  }
}
