package dev.bytestreams3.benchmarks;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs one measured action to completion, bounded in time, and reports its seconds. */
final class Timed {

  private Timed() {}

  static double seconds(Callable<CompletableFuture<?>> action, long timeoutSeconds) throws Exception {
    long start = System.nanoTime();
    action.call().get(timeoutSeconds, TimeUnit.SECONDS);
    return (System.nanoTime() - start) / 1e9;
  }
}
