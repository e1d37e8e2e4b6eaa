package dev.bytestreams3.service.bytestream;

import dev.bytestreams3.storage.MemoryBudget;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Bounds the memory of first {@code WriteRequest}s. A {@code Write} learns its resource only from
 * its first message, and holds that message while the store checks whether the blob exists and
 * opens the upload; later messages are asked for only once the store has room for them. So first
 * messages are the one thing a stream holds outside the store's budget, and this is their bound:
 * a call reserves the largest message it could receive before asking for its first, and keeps
 * only the message's real size once it arrives, until the store has taken it.
 *
 * <p>Room is granted connection by connection in turn, and in order of asking within one
 * connection, and no connection holds more than half of it (or one largest message, when that is
 * more): a client that opens hundreds of streams on one connection and sends nothing on them
 * leaves the other half to everyone else, and with other connections doing the same, delays a
 * call by about one first-message timeout (the longest a silent stream holds its share) per turn
 * ahead of it, not by one timeout per stream they opened.
 *
 * <p>It is a budget of its own, not a share of the store's: a call holding a first message waits
 * for the store's budget, so taking both from one pool could let first messages starve the part
 * buffers they wait for.
 */
public final class OpeningMessages {

  /** Accounting only: nobody waits inside it, the turns below decide who is granted next. */
  private final MemoryBudget budget;
  private final long maxMessageBytes;

  /** The most room one connection may hold. */
  private final long perConnectionBytes;

  /** Room held now, by connection; a connection is here only while it holds some. */
  private final Map<Object, long[]> held = new IdentityHashMap<>();

  /** The calls waiting, by connection; a connection is here only while it has one waiting. */
  private final Map<Object, ArrayDeque<Turn>> waiting = new IdentityHashMap<>();

  /** The connections with a call waiting, the one whose turn is next first. */
  private final ArrayDeque<Object> rotation = new ArrayDeque<>();

  /**
   * Room granted whose first message has not arrived, by connection; a connection is here only
   * while it has some.
   */
  private final Map<Object, List<Share>> unanswered = new IdentityHashMap<>();

  private int waitingCalls;
  private long waitsTotal;
  private long waitNanosTotal;

  /**
   * @param capacityBytes bytes first messages may hold together
   * @param maxMessageBytes the largest message the server accepts
   */
  public OpeningMessages(long capacityBytes, long maxMessageBytes) {
    if (maxMessageBytes <= 0) {
      throw new IllegalArgumentException("maxMessageBytes: " + maxMessageBytes + " (expected: > 0)");
    }
    // Room for at least one message of the largest size, however small the share.
    this.budget = new MemoryBudget(Math.max(capacityBytes, maxMessageBytes));
    this.maxMessageBytes = maxMessageBytes;
    this.perConnectionBytes = Math.max(maxMessageBytes, budget.capacityBytes() / 2);
  }

  /**
   * Room for one first message of the largest size for a call of {@code connection} (compared by
   * identity), granted when that connection's turn comes. Cancelling the future before it
   * completes withdraws the request.
   */
  CompletableFuture<Share> reserve(Object connection) {
    Turn turn = new Turn();
    synchronized (this) {
      if (rotation.isEmpty() && mayHoldMore(connection)) {
        MemoryBudget.Reservation r = budget.tryReserve(maxMessageBytes);
        if (r != null) {
          turn.future.complete(hold(connection, r));
          return turn.future;
        }
      }
      ArrayDeque<Turn> queue = waiting.get(connection);
      if (queue == null) {
        queue = new ArrayDeque<>();
        waiting.put(connection, queue);
        rotation.add(connection);
      }
      queue.add(turn);
      waitingCalls++;
      waitsTotal++;
    }
    turn.future.whenComplete(
        (s, err) -> {
          if (turn.future.isCancelled()) {
            // It may be first in its connection's queue: leave now, not when its turn comes.
            withdraw(connection, turn);
          }
        });
    // Room may be free while others wait: theirs are connections holding their most.
    grant();
    return turn.future;
  }

  /** Bytes held by first messages now. */
  public long usedBytes() {
    return budget.usedBytes();
  }

  /**
   * Whether {@code connection} holds room for a call that was granted it at least {@code
   * minNanos} ago and has sent no first message since: its calls still waiting are kept waiting by
   * its own silent ones, not by a server busy with streams that make progress.
   */
  public synchronized boolean holdsRoomForSilentCalls(Object connection, long minNanos) {
    List<Share> shares = unanswered.get(connection);
    if (shares == null) {
      return false;
    }
    long now = System.nanoTime();
    for (Share s : shares) {
      if (now - s.grantedAtNanos >= minNanos) {
        return true;
      }
    }
    return false;
  }

  /** Calls waiting for room for their first message now. */
  public synchronized int waiting() {
    return waitingCalls;
  }

  /** Calls that have had to wait for room for their first message, since the start. */
  public synchronized long waitsTotal() {
    return waitsTotal;
  }

  /** Nanoseconds that granted calls spent waiting for room, added up since the start. */
  public synchronized long waitNanosTotal() {
    return waitNanosTotal;
  }

  private void withdraw(Object connection, Turn turn) {
    synchronized (this) {
      ArrayDeque<Turn> queue = waiting.get(connection);
      if (queue == null || !queue.remove(turn)) {
        return;
      }
      waitingCalls--;
      if (queue.isEmpty()) {
        waiting.remove(connection);
        rotation.remove(connection);
      }
    }
    grant();
  }

  /** Whether {@code connection} may take room for one more message; holds the lock. */
  private boolean mayHoldMore(Object connection) {
    long[] h = held.get(connection);
    return (h == null ? 0 : h[0]) + maxMessageBytes <= perConnectionBytes;
  }

  /** Counts {@code r} as held by {@code connection}; holds the lock. */
  private Share hold(Object connection, MemoryBudget.Reservation r) {
    held.computeIfAbsent(connection, c -> new long[1])[0] += r.bytes();
    Share s = new Share(connection, r);
    unanswered.computeIfAbsent(connection, c -> new ArrayList<>()).add(s);
    return s;
  }

  /** {@code s}'s first message arrived, or it was given back. */
  private synchronized void answered(Share s) {
    List<Share> shares = unanswered.get(s.connection);
    if (shares != null && shares.remove(s) && shares.isEmpty()) {
      unanswered.remove(s.connection);
    }
  }

  private synchronized void returned(Object connection, long bytes) {
    long[] h = held.get(connection);
    if (h != null && (h[0] -= bytes) <= 0) {
      held.remove(connection);
    }
  }

  /** Grants room to the calls whose turn it is, while it lasts. */
  private void grant() {
    List<Turn> granted = new ArrayList<>();
    List<Share> room = new ArrayList<>();
    synchronized (this) {
      long now = System.nanoTime();
      // Each connection in the rotation is looked at once per pass; one holding its most waits.
      int passed = 0;
      while (passed < rotation.size()) {
        Object connection = rotation.poll();
        if (!mayHoldMore(connection)) {
          rotation.add(connection);
          passed++;
          continue;
        }
        MemoryBudget.Reservation r = budget.tryReserve(maxMessageBytes);
        if (r == null) {
          rotation.addFirst(connection);
          break;
        }
        passed = 0;
        ArrayDeque<Turn> queue = waiting.get(connection);
        Turn turn = queue.poll();
        waitingCalls--;
        if (queue.isEmpty()) {
          waiting.remove(connection);
        } else {
          rotation.add(connection);
        }
        waitNanosTotal += now - turn.sinceNanos;
        granted.add(turn);
        room.add(hold(connection, r));
      }
    }
    boolean unused = false;
    for (int i = 0; i < granted.size(); i++) {
      if (!granted.get(i).future.complete(room.get(i))) {
        // Cancelled as it was granted: the room goes to the next in turn.
        room.get(i).returnAll();
        unused = true;
      }
    }
    if (unused) {
      grant();
    }
  }

  /** Room held for one first message; shrinking or closing it lets the next call in. */
  final class Share implements AutoCloseable {
    private final Object connection;
    private final MemoryBudget.Reservation reservation;
    private final long grantedAtNanos = System.nanoTime();
    private boolean closed;

    private Share(Object connection, MemoryBudget.Reservation reservation) {
      this.connection = connection;
      this.reservation = reservation;
    }

    /** Keeps only {@code keep} bytes: the size of the message that arrived. */
    void shrinkTo(long keep) {
      answered(this);
      long returnedBytes;
      synchronized (this) {
        if (closed) {
          return;
        }
        long before = reservation.bytes();
        reservation.shrinkTo(keep);
        returnedBytes = before - reservation.bytes();
      }
      returned(connection, returnedBytes);
      grant();
    }

    @Override
    public void close() {
      returnAll();
      grant();
    }

    private void returnAll() {
      answered(this);
      long bytes;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        bytes = reservation.bytes();
      }
      reservation.close();
      returned(connection, bytes);
    }
  }

  private static final class Turn {
    final CompletableFuture<Share> future = new CompletableFuture<>();
    final long sinceNanos = System.nanoTime();
  }
}
