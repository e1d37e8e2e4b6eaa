package dev.bytestreams3.storage.s3;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that hash uploads' parts, so that hashing never runs on the threads that receive
 * the bytes. One per processor: hashing is pure computation. After {@link #close()}, work is run
 * on the thread that hands it over, so an upload still finishing never loses a step.
 */
final class HashThreads implements Executor, AutoCloseable {

  private final ExecutorService threads;

  HashThreads() {
    this(pool());
  }

  /** Hashing on {@code threads}, which {@link #close()} shuts down. */
  HashThreads(ExecutorService threads) {
    this.threads = threads;
  }

  private static ExecutorService pool() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        Runtime.getRuntime().availableProcessors(),
        r -> {
          Thread t = new Thread(r, "s3-store-hash-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  @Override
  public void execute(Runnable work) {
    try {
      threads.execute(work);
    } catch (RejectedExecutionException closed) {
      work.run();
    }
  }

  @Override
  public void close() {
    threads.shutdown();
  }
}
