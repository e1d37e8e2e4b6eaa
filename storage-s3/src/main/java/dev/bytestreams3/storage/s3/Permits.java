package dev.bytestreams3.storage.s3;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/** A counting semaphore whose acquisitions are futures, so that waiting never blocks a thread. */
final class Permits {

  private final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
  private int available;

  Permits(int count) {
    if (count <= 0) {
      throw new IllegalArgumentException("count: " + count + " (expected: > 0)");
    }
    this.available = count;
  }

  /** Completes when a permit is taken; first come, first served. */
  CompletableFuture<Void> acquire() {
    synchronized (this) {
      if (available > 0 && waiters.isEmpty()) {
        available--;
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      waiters.add(f);
      return f;
    }
  }

  /** Returns a permit, handing it to the oldest waiter when there is one. */
  void release() {
    CompletableFuture<Void> next;
    synchronized (this) {
      next = waiters.poll();
      if (next == null) {
        available++;
        return;
      }
    }
    if (!next.complete(null)) {
      release();
    }
  }

  /** Fails every waiter with {@code error}; for a holder that gives up. */
  void failWaiters(Throwable error) {
    ArrayDeque<CompletableFuture<Void>> failed;
    synchronized (this) {
      failed = new ArrayDeque<>(waiters);
      waiters.clear();
    }
    failed.forEach(f -> f.completeExceptionally(error));
  }
}
