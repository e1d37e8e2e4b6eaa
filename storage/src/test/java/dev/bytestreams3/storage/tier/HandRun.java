package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobReader;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

/** An executor whose tasks wait until the test runs them, oldest or newest first. */
final class HandRun implements Executor {
  private final Deque<Runnable> tasks = new ArrayDeque<>();

  @Override
  public synchronized void execute(Runnable task) {
    tasks.addLast(task);
  }

  synchronized int waiting() {
    return tasks.size();
  }

  private synchronized Runnable take(boolean newest) {
    return newest ? tasks.pollLast() : tasks.pollFirst();
  }

  void runUntil(BooleanSupplier done) {
    run(false, done);
  }

  void runNewestUntil(BooleanSupplier done) {
    run(true, done);
  }

  void runAll() {
    run(false, () -> false);
  }

  private void run(boolean newest, BooleanSupplier done) {
    while (!done.getAsBoolean()) {
      Runnable task = take(newest);
      if (task == null) {
        return;
      }
      task.run();
    }
  }

  /**
   * Reads {@code r} to its end, running the tasks it waits for oldest first, or newest first so
   * that check steps queued before its reads wait.
   */
  byte[] drain(BlobReader r, boolean newestFirst) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      CompletableFuture<ByteBuffer> next = r.next();
      if (newestFirst) {
        runNewestUntil(next::isDone);
      } else {
        runUntil(next::isDone);
      }
      ByteBuffer chunk = next.getNow(null);
      if (chunk == null) {
        return out.toByteArray();
      }
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      out.write(b);
    }
  }
}
