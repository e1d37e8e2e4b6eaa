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
 * and wait for more, so every reader of the blob shares one download. The bytes are hashed as
 * they are written; once complete and matching the key's digest, the file is published in the
 * tier. When the last reader leaves before the end, the download stops and the file is deleted.
 */
final class Fill implements TierSource {

  private final BlobKey key;
  private final ContentCheck check;
  private final BlobReader from;
  private final Path temp;
  private final FileChannel channel;
  private final TierFiles files;
  private final Executor io;
  private final Runnable ended;
  private final ContentHasher hasher;

  // Guarded by this.
  private long written;
  private boolean done;
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
    this.hasher = check.function().newHasher();
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
      closeChannel();
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
      hasher.update(chunk);
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

  /** Publishes the file when it is the blob the key names, and wakes every reader. */
  private void complete() throws IOException {
    long size;
    synchronized (this) {
      size = written;
    }
    boolean good =
        size == from.blobSize() && MessageDigest.isEqual(hasher.digest(), check.expectedDigest());
    from.close();
    if (good) {
      files.publish(temp, key, true);
    } else {
      // The slow store's bytes are what its readers got; the tier keeps none of them.
      deleteTemp();
    }
    List<CompletableFuture<Long>> wake;
    synchronized (this) {
      done = true;
      wake = due(true);
      if (readers == 0) {
        closeChannel();
      }
    }
    wake.forEach(f -> f.complete(size));
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
