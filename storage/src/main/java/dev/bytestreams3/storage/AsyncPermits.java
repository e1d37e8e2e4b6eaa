package dev.bytestreams3.storage;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks with at most a fixed number in flight; the rest wait in arrival order.
 * No thread ever blocks: a finished task starts the next waiting one.
 */
public final class AsyncPermits {

  private final int permits;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;
  private boolean draining;

  public AsyncPermits(int permits) {
    if (permits <= 0) {
      throw new IllegalArgumentException("permits: " + permits + " (expected: > 0)");
    }
    this.permits = permits;
  }

  /** Starts {@code task} once a permit is free; the result completes with the task's. */
  public <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> task) {
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
    synchronized (this) {
      waiting.add(start);
    }
    drain();
    return result;
  }

  /** Tasks running now. */
  public synchronized int running() {
    return running;
  }

  private void release() {
    synchronized (this) {
      running--;
    }
    drain();
  }

  /**
   * Starts waiting tasks while permits are free. One thread drains at a time, in a loop: a task
   * that completes at once releases its permit without recursing, however many tasks wait.
   */
  private void drain() {
    synchronized (this) {
      if (draining) {
        return;
      }
      draining = true;
    }
    while (true) {
      Runnable next;
      synchronized (this) {
        if (running >= permits || waiting.isEmpty()) {
          draining = false;
          return;
        }
        next = waiting.poll();
        running++;
      }
      next.run();
    }
  }
}
