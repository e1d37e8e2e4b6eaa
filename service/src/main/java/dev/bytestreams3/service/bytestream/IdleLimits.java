package dev.bytestreams3.service.bytestream;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long a stream may keep the server waiting before it is ended: a {@code Write} that sends no
 * first message, and a stream that makes no progress (a {@code Write} that sends nothing more
 * while the server waits for it, a {@code Read} whose client takes nothing). An idle stream holds
 * memory that others need, so it is ended with {@code DEADLINE_EXCEEDED} and returns it all.
 */
public final class IdleLimits {

  private final Duration firstMessage;
  private final Duration progress;
  private final ScheduledThreadPoolExecutor timer;
  private final AtomicLong endedTotal = new AtomicLong();
  private final AtomicLong turnedAwayTotal = new AtomicLong();

  /**
   * @param firstMessage how long a {@code Write} may take to send its first message
   * @param progress how long a stream may go without progress on the client's side
   */
  public IdleLimits(Duration firstMessage, Duration progress) {
    this.firstMessage = positive(firstMessage, "firstMessage");
    this.progress = positive(progress, "progress");
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "idle-streams");
              t.setDaemon(true);
              return t;
            });
    // The thread goes away while no stream is open, so an unused server keeps none.
    timer.setKeepAliveTime(10, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
    timer.setRemoveOnCancelPolicy(true);
  }

  private static Duration positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
    }
    return d;
  }

  /** How long a {@code Write} may take to send its first message. */
  public Duration firstMessage() {
    return firstMessage;
  }

  /** How long a stream may go without progress on the client's side. */
  public Duration progress() {
    return progress;
  }

  /**
   * How long a {@code Write} may wait for room for its first message: twice {@link
   * #firstMessage()}, so that a call whose turn comes when a silent stream of another connection
   * is ended (at most one first-message timeout after it queued) always gets it in time.
   */
  public Duration roomWait() {
    return firstMessage.multipliedBy(2);
  }

  /** Writes ended because no room for their first message came within {@link #roomWait()}. */
  public long turnedAwayTotal() {
    return turnedAwayTotal.get();
  }

  void countTurnedAway() {
    turnedAwayTotal.incrementAndGet();
  }

  /** Streams ended for being idle, since the start. */
  public long endedTotal() {
    return endedTotal.get();
  }

  void countEnded() {
    endedTotal.incrementAndGet();
  }

  ScheduledFuture<?> after(long nanos, Runnable check) {
    return timer.schedule(check, Math.max(1, nanos), TimeUnit.NANOSECONDS);
  }

  /** Words for a duration in a status message: "30 s", or "250 ms" below a second. */
  static String words(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
