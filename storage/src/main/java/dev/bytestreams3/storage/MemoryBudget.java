package dev.bytestreams3.storage;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * One byte budget shared by every write buffer and read-ahead buffer of a server. A caller
 * reserves before it buffers and releases when the bytes are gone; when the budget is spent,
 * reservations wait (first come, first served) instead of allocating.
 *
 * <p>To stay free of deadlock, a holder must be able to release what it holds without reserving
 * more: reserve a whole buffer up front, never grow one reservation by waiting for another.
 */
public final class MemoryBudget {

  private final long capacityBytes;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private long usedBytes;
  private long peakBytes;

  public MemoryBudget(long capacityBytes) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException(
          "capacityBytes: " + capacityBytes + " (expected: > 0)");
    }
    this.capacityBytes = capacityBytes;
  }

  /** The whole budget in bytes. */
  public long capacityBytes() {
    return capacityBytes;
  }

  /** Bytes reserved now. */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  /** The most bytes ever reserved at once. */
  public synchronized long peakBytes() {
    return peakBytes;
  }

  /** Reservations waiting for bytes now (those whose caller gave up no longer count). */
  public synchronized int waitingReservations() {
    int n = 0;
    for (Waiter w : waiters) {
      if (!w.future.isDone()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Reserves {@code bytes}, completing when they are available. A request larger than the whole
   * budget is granted alone, once nothing else is reserved, so that it cannot wait forever.
   */
  public CompletableFuture<Reservation> reserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
    }
    Waiter w = new Waiter(bytes);
    synchronized (this) {
      if (waiters.isEmpty() && fits(bytes)) {
        take(bytes);
      } else {
        waiters.add(w);
        return w.future;
      }
    }
    w.future.complete(new Reservation(this, bytes));
    return w.future;
  }

  /**
   * Reserves {@code bytes} now if they fit in what is left, without waiting. Unlike {@link
   * #reserve}, never grants more than the whole budget, not even when nothing else is reserved:
   * what it is for (bytes kept ahead of need) can always do without.
   */
  public Reservation tryReserve(long bytes) {
    synchronized (this) {
      if (!waiters.isEmpty() || usedBytes + bytes > capacityBytes) {
        return null;
      }
      take(bytes);
    }
    return new Reservation(this, bytes);
  }

  private void take(long bytes) {
    usedBytes += bytes;
    peakBytes = Math.max(peakBytes, usedBytes);
  }

  private boolean fits(long bytes) {
    return usedBytes + bytes <= capacityBytes || usedBytes == 0;
  }

  private void release(long bytes) {
    ArrayDeque<Waiter> granted = new ArrayDeque<>();
    synchronized (this) {
      usedBytes -= bytes;
      while (!waiters.isEmpty() && fits(waiters.peek().bytes)) {
        Waiter w = waiters.poll();
        if (w.future.isDone()) {
          continue;
        }
        take(w.bytes);
        granted.add(w);
      }
    }
    for (Waiter w : granted) {
      Reservation r = new Reservation(this, w.bytes);
      if (!w.future.complete(r)) {
        r.close();
      }
    }
  }

  /** Bytes held from a {@link MemoryBudget}; closing returns them, once. */
  public static final class Reservation implements AutoCloseable {
    private final MemoryBudget budget;
    private long bytes;
    private boolean closed;

    private Reservation(MemoryBudget budget, long bytes) {
      this.budget = budget;
      this.bytes = bytes;
    }

    /** The bytes held. */
    public synchronized long bytes() {
      return bytes;
    }

    /** Returns all but {@code keep} of the bytes held; holding {@code keep} or fewer already does nothing. */
    public void shrinkTo(long keep) {
      if (keep < 0) {
        throw new IllegalArgumentException("keep: " + keep + " (expected: >= 0)");
      }
      long returned;
      synchronized (this) {
        if (closed || keep >= bytes) {
          return;
        }
        returned = bytes - keep;
        bytes = keep;
      }
      budget.release(returned);
    }

    @Override
    public void close() {
      long returned;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        returned = bytes;
      }
      budget.release(returned);
    }
  }

  private static final class Waiter {
    final long bytes;
    final CompletableFuture<Reservation> future = new CompletableFuture<>();

    Waiter(long bytes) {
      this.bytes = bytes;
    }
  }
}
