package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.ContentHasher;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One blob being copied from the slow store into a temporary tier file, as fast as the slow store
 * delivers it and no further than {@link #AHEAD_BYTES} ahead of the reader furthest on. Every
 * reader of the blob shares one download: the reader in front takes each chunk from memory as it
 * arrives, while the chunk is written to the file beside it ({@link FillWriter}, with direct I/O
 * where the file system allows it), so neither the tier's disk nor its page cache is on the path
 * of the first read; a reader further back reads what the file holds. Chunks held in memory beyond
 * the first are reserved from the memory budget while at most half of it is reserved, and the
 * download waits when one finds no room or when {@link #HELD_CHUNKS} wait for the disk. Once the
 * download is complete, the file is hashed from the tier's disk, off the readers' path, in steps
 * of {@link #CHECK_STEP_BYTES}; it is published in the tier only when it matches the key's
 * digest. A reader joins only while the download runs: one arriving later waits for the fill to
 * end ({@link #over()}) and reads the published file, so that no reader takes a copy the check
 * has not passed. When the last reader leaves before the end of the download, the download stops
 * and the file is deleted.
 */
final class Fill implements TierSource {

  /** How much of the file one task on the I/O threads hashes before it lets others run. */
  static final int CHECK_STEP_BYTES = 8 << 20;

  /** The most chunks received and not yet given to the file, in the order they arrived. */
  static final int HELD_CHUNKS = 4;

  /** How far the download runs ahead of the reader furthest on. */
  static final int AHEAD_BYTES = 4 << 20;

  private final BlobKey key;
  private final ContentCheck check;
  private final BlobReader from;
  private final Path temp;
  private final FileChannel channel;
  /** Used by one task at a time: the one {@link #writing}, then the one completing the fill. */
  private final FillWriter writer;
  private final TierFiles files;
  private final Executor io;
  private final MemoryBudget budget;
  private final Runnable ended;

  // Guarded by this.
  /** Bytes that readers may read from the file, from its start. */
  private long written;
  /** Bytes given to {@link #writer}; those beyond {@link #written} it keeps back for now. */
  private long appended;
  /** Bytes received from the slow store. */
  private long received;
  /**
   * Chunks received, in order, from {@link #heldStart} on: each is kept until it is in the file and
   * the reader furthest on has passed it, so that reader takes every chunk from memory.
   */
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private long heldStart;
  /** The furthest position a reader has asked for: it has every byte before it. */
  private long lead;
  /** How many of the last chunks held are not yet given to {@link #writer}. */
  private int unappended;
  /** Chunks held that found no room in the memory budget: no more is asked for meanwhile. */
  private int heldWithoutRoom;
  /** A chunk has been asked of the slow store and has not arrived yet. */
  private boolean asking;
  /** A task is writing the chunks held to the file. */
  private boolean writing;
  /** The download has ended: readers read no further than {@link #received}. */
  private boolean done;
  /** The file has been published or discarded; the fill is over. */
  private boolean settled;
  private RuntimeException failure;
  private int readers;
  private boolean channelClosed;
  private final List<Waiter> waiters = new ArrayList<>();
  private final CompletableFuture<Void> over = new CompletableFuture<>();

  private Fill(
      BlobKey key, ContentCheck check, BlobReader from, Path temp, FileChannel channel,
      FillWriter writer, TierFiles files, Executor io, MemoryBudget budget, Runnable ended) {
    this.key = key;
    this.check = check;
    this.from = from;
    this.temp = temp;
    this.channel = channel;
    this.writer = writer;
    this.files = files;
    this.io = io;
    this.budget = budget;
    this.ended = ended;
  }

  /**
   * Starts copying the whole blob {@code from} reads into a new temporary file, with one reader
   * attached (the one that starts it, which releases it like any other); {@code ended} runs
   * once the fill has published its file, failed or been abandoned. Chunks waiting for the disk
   * beyond the first are reserved from {@code budget}; the file is written with direct I/O through
   * {@code buffers} where its file system allows it, and through the page cache when they are
   * null.
   */
  static Fill start(
      BlobKey key, ContentCheck check, BlobReader from, TierFiles files, Executor io,
      MemoryBudget budget, AlignedBuffers buffers, Runnable ended) throws IOException {
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
    Fill fill =
        new Fill(key, check, from, temp, ch, FillWriter.open(temp, ch, buffers), files, io, budget, ended);
    synchronized (fill) {
      // The reader that starts the fill.
      fill.readers = 1;
      fill.asking = true;
    }
    fill.ask();
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

  /**
   * Adds a reader; false when the fill has failed or its download has ended, for readers joining
   * now: they wait for {@link #over()} and open the blob again.
   */
  synchronized boolean attach() {
    if (failure != null || channelClosed || done || received >= from.blobSize()) {
      return false;
    }
    readers++;
    return true;
  }

  /** Completes once the fill has published its file, failed or been abandoned. */
  CompletableFuture<Void> over() {
    return over;
  }

  /** The bytes to read from the file: those before the chunks still held in memory. */
  @Override
  public synchronized long writtenBytes() {
    return failure != null ? 0 : heldStart;
  }

  @Override
  public CompletableFuture<Ready> readable(long position) {
    CompletableFuture<Ready> ready;
    boolean more;
    synchronized (this) {
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      if (position > lead) {
        lead = position;
        dropReadable();
      }
      if (heldStart > position) {
        ready = CompletableFuture.completedFuture(new Ready(heldStart, null));
      } else if (received > position) {
        ready = CompletableFuture.completedFuture(new Ready(received, heldFrom(position)));
      } else if (done) {
        ready = CompletableFuture.completedFuture(new Ready(received, null));
      } else {
        ready = new CompletableFuture<>();
        waiters.add(new Waiter(position, ready));
      }
      more = mayAsk();
    }
    if (more) {
      ask();
    }
    return ready;
  }

  /** The bytes held in memory from {@code position}, which is in the chunks held. Guarded by this. */
  private ByteBuffer heldFrom(long position) {
    long at = heldStart;
    for (Held h : held) {
      ByteBuffer chunk = h.bytes();
      int n = chunk.remaining();
      if (position < at + n) {
        ByteBuffer b = chunk.duplicate();
        b.position(b.position() + (int) (position - at));
        return b.slice();
      }
      at += n;
    }
    throw new IllegalStateException(position + " is not held: " + written + " to " + received);
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
      abandon = !done && failure == null && received < from.blobSize();
      if (abandon) {
        failure = new StorageException(Reason.CANCELLED, "fill of " + key + " abandoned");
        dropHeld();
      }
      if (abandon || settled || failure != null) {
        closeChannel();
      }
      // Otherwise the file is still to be checked.
    }
    if (abandon) {
      from.close();
      deleteTemp();
      end();
    }
  }

  /** Asks the slow store for the next chunk; {@link #asking} is already set. */
  private void ask() {
    from.next().whenCompleteAsync(this::arrived, io);
  }

  /**
   * Hands a chunk that arrived to the readers waiting for its bytes, has it written, and asks for
   * the next one while fewer than {@link #HELD_CHUNKS} wait for the disk and the budget has room.
   */
  private void arrived(ByteBuffer chunk, Throwable err) {
    if (err != null) {
      fail(StorageException.from(err));
      return;
    }
    List<Wake> wake = new ArrayList<>();
    boolean write;
    boolean more = false;
    synchronized (this) {
      if (failure != null) {
        // Abandoned: the temporary file is already gone.
        return;
      }
      asking = false;
      if (chunk == null) {
        done = true;
        for (Waiter w : waiters) {
          wake.add(new Wake(w.future(), new Ready(received, null)));
        }
        waiters.clear();
      } else if (chunk.hasRemaining()) {
        MemoryBudget.Reservation room = null;
        if (!held.isEmpty()) {
          room = budget.tryReserve(chunk.remaining(), budget.capacityBytes() / 2);
          if (room == null) {
            heldWithoutRoom++;
          }
        }
        held.add(new Held(chunk, room, !held.isEmpty() && room == null));
        unappended++;
        received += chunk.remaining();
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
          Waiter w = it.next();
          if (w.position() < received) {
            wake.add(new Wake(w.future(), new Ready(received, heldFrom(w.position()))));
            it.remove();
          }
        }
        more = mayAsk();
      } else {
        more = mayAsk();
      }
      write = !writing;
      writing = true;
    }
    wake.forEach(w -> w.future().complete(w.ready()));
    if (more) {
      ask();
    }
    if (write) {
      writeHeld();
    }
  }

  /**
   * Whether to ask for another chunk now: while fewer than {@link #HELD_CHUNKS} wait for the disk,
   * the download is less than {@link #AHEAD_BYTES} ahead of the reader furthest on, and every
   * chunk held beyond the first found room in the memory budget (at most half of it reserved), or
   * at once for the end of a blob whose bytes have all arrived; sets {@link #asking} when it does.
   * Guarded by this.
   */
  private boolean mayAsk() {
    if (asking || done || failure != null) {
      return false;
    }
    // Once every byte has arrived, only the end of the blob is left to ask for: it brings no
    // bytes, and the fill completes only when it has it, whoever is still reading.
    boolean more = received < from.blobSize();
    if (more
        && (unappended >= HELD_CHUNKS || received >= lead + AHEAD_BYTES || heldWithoutRoom > 0)) {
      return false;
    }
    asking = true;
    return true;
  }

  /**
   * Gives the first chunk not yet appended to the writer, then goes on in a new task while more
   * wait; completes the fill once the download has ended and every chunk is appended.
   */
  private void writeHeld() {
    ByteBuffer chunk = null;
    synchronized (this) {
      if (failure != null) {
        writing = false;
        return;
      }
      if (unappended > 0) {
        long at = heldStart;
        for (Held h : held) {
          if (at == appended) {
            chunk = h.bytes();
            break;
          }
          at += h.bytes().remaining();
        }
      } else {
        writing = false;
        if (!done) {
          return;
        }
      }
    }
    if (chunk == null) {
      complete();
      return;
    }
    boolean more;
    try {
      long flushed = writer.append(chunk);
      synchronized (this) {
        if (failure != null) {
          return;
        }
        appended += chunk.remaining();
        unappended--;
        written = flushed;
        dropReadable();
        more = mayAsk();
      }
      if (more) {
        ask();
      }
      io.execute(this::writeHeld);
    } catch (IOException | RuntimeException e) {
      fail(new DiskFault("tier fill of " + key + ": " + e, e));
    }
  }

  /**
   * Lets go of the chunks held that are in the file and that the reader furthest on has passed,
   * and of their room in the budget. Guarded by this.
   */
  private void dropReadable() {
    while (!held.isEmpty()
        && heldStart + held.peek().bytes().remaining() <= Math.min(written, lead)) {
      Held h = held.poll();
      heldStart += h.bytes().remaining();
      letGo(h);
    }
  }

  /** Ends the download: wakes every reader, then checks the file unless it fell short. */
  private void complete() {
    from.close();
    long size;
    try {
      size = writer.finish();
      writer.close();
    } catch (IOException | RuntimeException e) {
      fail(new DiskFault("tier fill of " + key + ": " + e, e));
      return;
    }
    synchronized (this) {
      if (failure != null) {
        return;
      }
      written = size;
      dropReadable();
    }
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
      // The file holds every byte now, and readers still here read it from there.
      dropHeld();
      if (readers == 0) {
        closeChannel();
      }
    }
    end();
  }

  private void fail(RuntimeException e) {
    List<Waiter> wake;
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = e;
      wake = new ArrayList<>(waiters);
      waiters.clear();
      dropHeld();
      if (readers == 0) {
        closeChannel();
      }
    }
    wake.forEach(w -> w.future().completeExceptionally(e));
    try {
      writer.close();
    } catch (IOException closing) {
      // The file is deleted below.
    }
    from.close();
    deleteTemp();
    end();
  }

  /** Lets go of the chunks held and of their room in the budget. Guarded by this. */
  private void dropHeld() {
    held.forEach(this::letGo);
    held.clear();
    heldStart = received;
    unappended = 0;
  }

  /** Gives back what a chunk no longer held took of the budget. Guarded by this. */
  private void letGo(Held h) {
    if (h.room() != null) {
      h.room().close();
    }
    if (h.roomless()) {
      heldWithoutRoom--;
    }
  }

  private void end() {
    ended.run();
    over.complete(null);
  }

  private void closeChannel() {
    channelClosed = true;
    try {
      writer.close();
    } catch (IOException e) {
      // Nothing is lost: the file is complete or abandoned.
    }
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

  private record Waiter(long position, CompletableFuture<Ready> future) {}

  /** A chunk held in memory, with its room in the budget ({@code roomless}: asked, none given). */
  private record Held(ByteBuffer bytes, MemoryBudget.Reservation room, boolean roomless) {}

  private record Wake(CompletableFuture<Ready> future, Ready ready) {}
}
