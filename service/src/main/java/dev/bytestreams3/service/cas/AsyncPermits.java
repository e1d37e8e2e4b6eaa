package dev.bytestreams3.service.cas;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks with at most a fixed number in flight; the rest wait in arrival order.
 * No thread ever blocks: a finished task starts the next waiting one.
 */
final class AsyncPermits {

  private final int permits;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  AsyncPermits(int permits) {
    if (permits <= 0) {
      throw new IllegalArgumentException("permits: " + permits + " (expected: > 0)");
    }
    this.permits = permits;
  }

  /** Starts {@code task} once a permit is free; the result completes with the task's. */
  <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> task) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable start =
        () -> {
          CompletableFuture<T> f;
          try {
            f = task.get();
          } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
          }
          f.whenComplete(
              (v, err) -> {
                release();
                if (err != null) {
                  result.completeExceptionally(err);
                } else {
                  result.complete(v);
                }
              });
        };
    boolean now;
    synchronized (this) {
      now = running < permits;
      if (now) {
        running++;
      } else {
        waiting.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return result;
  }

  /** Tasks running now. */
  synchronized int running() {
    return running;
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        running--;
      }
    }
    if (next != null) {
      next.run();
    }
  }
}
