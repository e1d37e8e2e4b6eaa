package dev.bytestreams3.benchmarks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** Runs {@code count} operations with at most {@code concurrency} in flight, timing each. */
final class ConcurrentRun {

  /** What one run measured. */
  record Result(double seconds, int count, Latencies latencies) {
    double perSecond() {
      return count / seconds;
    }
  }

  private ConcurrentRun() {}

  static Result run(int count, int concurrency, IntFunction<CompletableFuture<?>> op, long timeoutSeconds)
      throws Exception {
    Semaphore permits = new Semaphore(concurrency);
    Latencies latencies = new Latencies(count);
    CompletableFuture<?>[] all = new CompletableFuture<?>[count];
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    for (int i = 0; i < count; i++) {
      if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("operations did not finish within " + timeoutSeconds + " s");
      }
      long t0 = System.nanoTime();
      all[i] =
          op.apply(i)
              .whenComplete(
                  (v, err) -> {
                    latencies.add(System.nanoTime() - t0);
                    permits.release();
                  });
    }
    CompletableFuture.allOf(all).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    return new Result((System.nanoTime() - start) / 1e9, count, latencies);
  }
}
