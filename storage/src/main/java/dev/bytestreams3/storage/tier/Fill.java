package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.ContentHasher;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One blob being copied from the slow store into a temporary tier file, one chunk at a time, as
 * fast as the slow store delivers it. Its readers take bytes from the file as they are written
 * and wait for more, so every reader of the blob shares one download. Once the download is
 * complete, the file is hashed from the tier's disk, off the readers' path, in steps of {@link
 * #CHECK_STEP_BYTES}; it is published in the tier only when it matches the key's digest. Readers
 * that arrive while it is checked read the complete file. When the last reader leaves before the
 * end of the download, the download stops and the file is deleted.
 */
final class Fill implements TierSource {

  /** How much of the file one task on the I/O threads hashes before it lets others run. */
  static final int CHECK_STEP_BYTES = 8 << 20;

  private final BlobKey key;
  private final ContentCheck check;
  private final BlobReader from;
  private final Path temp;
  private final FileChannel channel;
  private final TierFiles files;
  private final Executor io;
  private final Runnable ended;

  // Guarded by this.
  private long written;
  /** The download has ended: readers read no further than {@link #written}. */
  private boolean done;
  /** The file has been published or discarded; the fill is over. */
  private boolean settled;
  private RuntimeException failure;
  private int readers;
  private boolean channelClosed;
  private final List<Waiter> waiters = new ArrayList<>();

  private Fill(
      BlobKey key, ContentCheck check, BlobReader from, Path temp, FileChannel channel,
      TierFiles files, Executor io, Runnable ended) {
    this.key = key;
    this.check = check;
    this.from = from;
    this.temp = temp;
    this.channel = channel;
    this.files = files;
    this.io = io;
    this.ended = ended;
  }

  /**
   * Starts copying the whole blob {@code from} reads into a new temporary file; {@code ended} runs
   * once the fill has published its file, failed or been abandoned.
   */
  static Fill start(
      BlobKey key, ContentCheck check, BlobReader from, TierFiles files, Executor io,
      Runnable ended) throws IOException {
    Path temp = files.newTemp();
    FileChannel ch;
    try {
      ch =
          FileChannel.open(
              temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
              StandardOpenOption.WRITE);
    } catch (IOException e) {
      from.close();
      throw e;
    }
    Fill fill = new Fill(key, check, from, temp, ch, files, io, ended);
    fill.pump();
    return fill;
  }

  @Override
  public long blobSize() {
    return from.blobSize();
  }

  @Override
  public FileChannel channel() {
    return channel;
  }

  /** Adds a reader; false when the fill has ended for readers joining now. */
  synchronized boolean attach() {
    if (failure != null || channelClosed) {
      return false;
    }
    readers++;
    return true;
  }

  @Override
  public synchronized long writtenBytes() {
    return failure != null ? 0 : written;
  }

  @Override
  public synchronized CompletableFuture<Long> readable(long position) {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    if (written > position || done) {
      return CompletableFuture.completedFuture(written);
    }
    CompletableFuture<Long> f = new CompletableFuture<>();
    waiters.add(new Waiter(position, f));
    return f;
  }

  @Override
  public void release() {
    boolean abandon;
    synchronized (this) {
      readers--;
      if (readers > 0) {
        return;
      }
      // A fill with every byte written is only waiting for the end of the blob: let it publish.
      abandon = !done && failure == null && written < from.blobSize();
      if (abandon) {
        failure = new StorageException(Reason.CANCELLED, "fill of " + key + " abandoned");
      }
      if (abandon || settled || failure != null) {
        closeChannel();
      }
      // Otherwise the file is still to be checked, and readers arriving meanwhile may read it.
    }
    if (abandon) {
      from.close();
      deleteTemp();
      ended.run();
    }
  }

  private void pump() {
    from.next().whenCompleteAsync(this::step, io);
  }

  private void step(ByteBuffer chunk, Throwable err) {
    synchronized (this) {
      if (failure != null) {
        // Abandoned: the temporary file is already gone.
        return;
      }
    }
    if (err != null) {
      fail(StorageException.from(err));
      return;
    }
    try {
      if (chunk == null) {
        complete();
        return;
      }
      long at;
      synchronized (this) {
        at = written;
      }
      int n = chunk.remaining();
      ByteBuffer b = chunk.duplicate();
      while (b.hasRemaining()) {
        channel.write(b, at + b.position() - chunk.position());
      }
      List<CompletableFuture<Long>> wake;
      synchronized (this) {
        written = at + n;
        wake = due(false);
      }
      wake.forEach(f -> f.complete(at + n));
      pump();
    } catch (IOException | RuntimeException e) {
      fail(new DiskFault("tier fill of " + key + ": " + e, e));
    }
  }

  /** Ends the download: wakes every reader, then checks the file unless it fell short. */
  private void complete() {
    from.close();
    long size;
    List<CompletableFuture<Long>> wake;
    synchronized (this) {
      size = written;
      done = true;
      wake = due(true);
    }
    wake.forEach(f -> f.complete(size));
    if (size != from.blobSize()) {
      // The slow store's bytes are what its readers got; the tier keeps none of them.
      deleteTemp();
      settle(false);
      return;
    }
    check(check.function().newHasher(), 0);
  }

  /**
   * Hashes the file from {@code position} for one step, then goes on in a new task, so that one
   * long check does not hold an I/O thread while readers wait for it; publishes or discards the
   * file at its end.
   */
  private void check(ContentHasher hasher, long position) {
    try {
      long size = from.blobSize();
      long stop = Math.min(size, position + CHECK_STEP_BYTES);
      long at = TierFiles.hash(channel, hasher, position, stop);
      if (at < stop) {
        throw new IOException("tier file ended at " + at + " of " + size + " bytes");
      }
      if (at < size) {
        long next = at;
        io.execute(() -> check(hasher, next));
        return;
      }
      boolean good = MessageDigest.isEqual(hasher.digest(), check.expectedDigest());
      if (!good) {
        // What its readers got is what the slow store holds; the tier keeps none of it.
        files.reject(temp);
      }
      settle(good);
    } catch (IOException | RuntimeException e) {
      fail(new DiskFault("tier check of " + key + ": " + e, e));
    }
  }

  /** Publishes the file when it is the blob the key names (else it is gone); ends the fill. */
  private void settle(boolean good) {
    synchronized (this) {
      if (failure != null) {
        return;
      }
    }
    if (good) {
      try {
        files.publish(temp, key, true);
      } catch (IOException | RuntimeException e) {
        fail(new DiskFault("tier fill of " + key + ": " + e, e));
        return;
      }
    }
    synchronized (this) {
      settled = true;
      if (readers == 0) {
        closeChannel();
      }
    }
    ended.run();
  }

  private void fail(RuntimeException e) {
    List<CompletableFuture<Long>> wake;
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = e;
      wake = due(true);
      if (readers == 0) {
        closeChannel();
      }
    }
    wake.forEach(f -> f.completeExceptionally(e));
    from.close();
    deleteTemp();
    ended.run();
  }

  /** Removes and returns the waiters that may go on now ({@code all}: every one). */
  private List<CompletableFuture<Long>> due(boolean all) {
    List<CompletableFuture<Long>> out = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (all || w.position() < written) {
        out.add(w.future());
        it.remove();
      }
    }
    return out;
  }

  private void closeChannel() {
    channelClosed = true;
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing written is lost: readers are done with the file.
    }
  }

  private void deleteTemp() {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      // The next start empties the temporary folder.
    }
  }

  private record Waiter(long position, CompletableFuture<Long> future) {}
}
