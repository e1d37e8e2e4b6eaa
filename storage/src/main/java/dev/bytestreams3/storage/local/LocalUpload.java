package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.ContentVerifier;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.Comparator;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * An upload into its own folder: a {@code data} file and a {@code state} file saying how many of
 * its bytes are synced and the hash state after them. Every call runs on the store's I/O threads,
 * one at a time, as the {@link Upload} contract orders them.
 */
final class LocalUpload implements Upload {

  private final LocalBlobStore store;
  private final UploadSpec spec;
  private final Path folder;
  private final long checkpointBytes;
  private final long committedAtOpen;
  private final ContentVerifier verifier;
  private FileChannel data;
  private long position;
  private long lastCheckpoint;
  private boolean closed;
  private boolean fenced;

  private LocalUpload(
      LocalBlobStore store,
      UploadSpec spec,
      Path folder,
      long checkpointBytes,
      FileChannel data,
      long committed,
      ContentVerifier verifier) {
    this.store = store;
    this.spec = spec;
    this.folder = folder;
    this.checkpointBytes = checkpointBytes;
    this.data = data;
    this.committedAtOpen = committed;
    this.position = committed;
    this.lastCheckpoint = committed;
    this.verifier = verifier;
  }

  /** Opens or resumes the upload in {@code folder}; runs on an I/O thread. */
  static LocalUpload open(LocalBlobStore store, UploadSpec spec, Path folder, long checkpointBytes)
      throws IOException {
    Files.createDirectories(folder);
    State state = State.read(folder);
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
    LocalUpload upload = new LocalUpload(store, spec, folder, checkpointBytes, ch, committed, verifier);
    if (state == null) {
      upload.saveState(committed);
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
    ByteBuffer b = bytes.duplicate();
    return store.onIo(
        "append to " + spec.key(),
        () -> {
          synchronized (store.uploadLock(folder)) {
            checkOpen();
            verifier.update(b);
            int n = b.remaining();
            while (b.hasRemaining()) {
              data.write(b);
            }
            synchronized (this) {
              position += n;
            }
            if (position - lastCheckpoint >= checkpointBytes) {
              checkpoint();
            }
            return null;
          }
        });
  }

  @Override
  public CompletableFuture<Long> finish() {
    return store.onIo(
        "finish upload to " + spec.key(),
        () -> {
          synchronized (store.uploadLock(folder)) {
            checkOpen();
            closed = true;
            store.released(folder, this);
            try {
              verifier.verify(position);
            } catch (StorageException e) {
              data.close();
              deleteFolder();
              throw e;
            }
            data.force(true);
            data.close();
            Path file = folder.resolve("data");
            store.publish(file, spec.key(), spec.overwrite());
            deleteFolder();
            return position;
          }
        });
  }

  @Override
  public CompletableFuture<Long> suspend() {
    return store.onIo(
        "suspend upload to " + spec.key(),
        () -> {
          synchronized (store.uploadLock(folder)) {
            if (!closed) {
              closed = true;
              store.released(folder, this);
              checkpoint();
              data.close();
            }
            return lastCheckpoint;
          }
        });
  }

  @Override
  public void detach() {
    suspend();
  }

  @Override
  public CompletableFuture<Void> abort() {
    return store.onIo(
        "abort upload to " + spec.key(),
        () -> {
          synchronized (store.uploadLock(folder)) {
            if (fenced) {
              // A newer writer owns the folder now; discarding is its decision.
              return null;
            }
            closed = true;
            store.released(folder, this);
            data.close();
            deleteFolder();
            return null;
          }
        });
  }

  /**
   * Stops this writer because a newer one opened the same upload; runs with the folder's lock. What
   * it wrote after its last checkpoint is not committed and is dropped by the new writer.
   */
  void fence() throws IOException {
    if (!closed) {
      closed = true;
      fenced = true;
      data.close();
    }
  }

  private void checkOpen() {
    if (fenced) {
      throw new StorageException(
          Reason.CANCELLED, "upload to " + spec.key() + " was resumed by a newer writer");
    }
    if (closed) {
      throw new StorageException(Reason.INVALID_REQUEST, "upload to " + spec.key() + " is closed");
    }
  }

  private void checkpoint() throws IOException {
    data.force(false);
    lastCheckpoint = saveState(position);
  }

  /**
   * Saves {@code committed} bytes as resumable and returns what a later writer may resume from:
   * 0 when the hash state cannot be saved, since a resumed upload must be verified in full.
   */
  private long saveState(long committed) throws IOException {
    long resumable = verifier.resumable() ? committed : 0;
    new State(spec.key().value(), resumable, verifier.saveState()).write(folder);
    return resumable;
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

  /** The saved state of an upload: how many bytes are synced, and the hash state after them. */
  record State(String key, long committedBytes, Optional<byte[]> hashState) {

    static State read(Path folder) throws IOException {
      Path file = folder.resolve("state");
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(file)) {
        p.load(in);
      } catch (NoSuchFileException e) {
        return null;
      }
      String hash = p.getProperty("hashState");
      return new State(
          p.getProperty("key"),
          Long.parseLong(p.getProperty("committedBytes")),
          hash == null ? Optional.empty() : Optional.of(Base64.getDecoder().decode(hash)));
    }

    void write(Path folder) throws IOException {
      Properties p = new Properties();
      p.setProperty("key", key);
      p.setProperty("committedBytes", Long.toString(committedBytes));
      hashState.ifPresent(h -> p.setProperty("hashState", Base64.getEncoder().encodeToString(h)));
      Path t = folder.resolve("state.tmp");
      try (OutputStream out = Files.newOutputStream(t)) {
        p.store(out, null);
      }
      try (FileChannel ch = FileChannel.open(t, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(t, folder.resolve("state"), StandardCopyOption.ATOMIC_MOVE);
    }
  }
}
