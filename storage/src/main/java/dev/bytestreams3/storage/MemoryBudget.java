package dev.bytestreams3.storage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One byte budget shared by every write buffer and read-ahead buffer of a server. A caller
 * reserves before it buffers and releases when the bytes are gone; when the budget is spent,
 * reservations wait, served in the order they asked.
 *
 * <p>So that no one caller can hold everyone else back, one reservation may be at most {@link
 * #maxReservationBytes()} (a set share of the budget): a larger one is refused at once rather than
 * queued ahead of everyone. A waiter whose future is cancelled leaves the queue at once. Bytes
 * kept ahead of need ({@link #tryReserve}) never make anyone wait.
 *
 * <p>To stay free of deadlock, a holder must be able to release what it holds without reserving
 * more: reserve a whole buffer up front, never grow one reservation by waiting for another.
 */
public final class MemoryBudget {

  private final long capacityBytes;
  private final long maxReservationBytes;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private long usedBytes;
  private long peakBytes;
  private long waitsTotal;
  private long waitNanosTotal;
  private long refusedTotal;

  /** A budget of {@code capacityBytes} whose one reservation may take all of it. */
  public MemoryBudget(long capacityBytes) {
    this(capacityBytes, capacityBytes);
  }

  /**
   * @param capacityBytes the whole budget
   * @param maxReservationBytes the most one reservation may take
   */
  public MemoryBudget(long capacityBytes, long maxReservationBytes) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException(
          "capacityBytes: " + capacityBytes + " (expected: > 0)");
    }
    if (maxReservationBytes <= 0 || maxReservationBytes > capacityBytes) {
      throw new IllegalArgumentException(
          "maxReservationBytes: " + maxReservationBytes + " (expected: 1 to " + capacityBytes
              + ")");
    }
    this.capacityBytes = capacityBytes;
    this.maxReservationBytes = maxReservationBytes;
  }

  /** The whole budget in bytes. */
  public long capacityBytes() {
    return capacityBytes;
  }

  /** The most bytes one reservation may take; {@link #reserve} refuses more. */
  public long maxReservationBytes() {
    return maxReservationBytes;
  }

  /** Bytes reserved now. */
  public synchronized long usedBytes() {
    return usedBytes;
  }

  /** The most bytes ever reserved at once. */
  public synchronized long peakBytes() {
    return peakBytes;
  }

  /** Reservations waiting now. */
  public synchronized int waiting() {
    return waiters.size();
  }

  /** Reservations that have had to wait, since the start (granted or not). */
  public synchronized long waitsTotal() {
    return waitsTotal;
  }

  /** Nanoseconds that granted reservations spent waiting, added up since the start. */
  public synchronized long waitNanosTotal() {
    return waitNanosTotal;
  }

  /** Reservations refused for asking more than {@link #maxReservationBytes()}, since the start. */
  public synchronized long refusedTotal() {
    return refusedTotal;
  }

  /**
   * Whether one reservation of {@code bytes} is allowed, for a caller that checks before it
   * commits to anything; a refusal is counted as {@link #reserve} counts one.
   */
  public boolean admits(long bytes) {
    if (bytes <= maxReservationBytes) {
      return true;
    }
    synchronized (this) {
      refusedTotal++;
    }
    return false;
  }

  /**
   * Reserves {@code bytes}, completing when they are available, after every reservation that
   * asked before. Cancelling the returned future before it completes withdraws the request.
   *
   * @return a future failed with {@link IllegalArgumentException} when {@code bytes} is more than
   *     {@link #maxReservationBytes()}
   */
  public CompletableFuture<Reservation> reserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: " + bytes + " (expected: >= 0)");
    }
    if (bytes > maxReservationBytes) {
      synchronized (this) {
        refusedTotal++;
      }
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "a buffer of " + bytes + " bytes is more than one caller may hold (expected: <= "
                  + maxReservationBytes + " bytes of a memory budget of " + capacityBytes + ")"));
    }
    Waiter w = new Waiter(bytes);
    synchronized (this) {
      if (waiters.isEmpty() && fits(bytes)) {
        take(bytes);
      } else {
        waiters.add(w);
        waitsTotal++;
        w.since = System.nanoTime();
        // A cancelled waiter leaves now, not when its turn comes: it may be at the head.
        w.future.whenComplete((r, err) -> {
          if (w.future.isCancelled()) {
            withdraw(w);
          }
        });
        return w.future;
      }
    }
    w.future.complete(new Reservation(this, bytes));
    return w.future;
  }

  /**
   * Reserves {@code bytes} now if they fit in what is left, without waiting; {@code null} when
   * they do not. Unlike {@link #reserve}, it grants nothing while anyone waits: what it is for
   * (bytes kept ahead of need) can always do without.
   */
  public Reservation tryReserve(long bytes) {
    return tryReserve(bytes, capacityBytes);
  }

  /**
   * As {@link #tryReserve(long)}, granting only while at most {@code ceilingBytes} of the budget
   * would be reserved: read-ahead of many streams then leaves the rest of the budget to callers
   * that need bytes to make progress.
   */
  public Reservation tryReserve(long bytes, long ceilingBytes) {
    synchronized (this) {
      if (!waiters.isEmpty() || usedBytes + bytes > Math.min(capacityBytes, ceilingBytes)) {
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
    return usedBytes + bytes <= capacityBytes;
  }

  private void withdraw(Waiter w) {
    List<Waiter> granted;
    synchronized (this) {
      if (!waiters.remove(w)) {
        return;
      }
      granted = grantWaiters();
    }
    complete(granted);
  }

  private void release(long bytes) {
    List<Waiter> granted;
    synchronized (this) {
      usedBytes -= bytes;
      granted = grantWaiters();
    }
    complete(granted);
  }

  /** Takes the bytes of the waiters at the head that now fit, in order; holds the lock. */
  private List<Waiter> grantWaiters() {
    List<Waiter> granted = new ArrayList<>();
    long now = System.nanoTime();
    while (!waiters.isEmpty() && fits(waiters.peek().bytes)) {
      Waiter w = waiters.poll();
      if (w.future.isDone()) {
        continue;
      }
      take(w.bytes);
      waitNanosTotal += now - w.since;
      granted.add(w);
    }
    return granted;
  }

  private void complete(List<Waiter> granted) {
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
    long since;

    Waiter(long bytes) {
      this.bytes = bytes;
    }
  }
}
