package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Runs the server's stop sequence once, on SIGTERM or on any other JVM exit. A SIGTERM that ends
 * in a clean stop exits with status 0: the stop was asked for and carried out, not a failure.
 */
final class GracefulStop {

  /** The stop sequence. */
  interface Sequence {
    void run() throws InterruptedException;
  }

  private final Sequence sequence;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  GracefulStop(Sequence sequence) {
    this.sequence = requireNonNull(sequence, "sequence");
  }

  /** Stops on SIGTERM, then exits; also stops on SIGINT or {@code System.exit}. */
  void install() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "shutdown"));
    Signal.handle(
        new Signal("TERM"),
        signal -> {
          // Not on the signal dispatcher thread: the stop may take the whole grace period.
          Thread t =
              new Thread(
                  () -> {
                    stop();
                    System.exit(0);
                  },
                  "sigterm");
          t.start();
        });
  }

  /** Waits until a stop sequence has run to its end. */
  void awaitStopped() throws InterruptedException {
    done.await();
  }

  /** Runs the sequence, or waits for the run already under way. */
  void stop() {
    if (!started.compareAndSet(false, true)) {
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      sequence.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      done.countDown();
    }
  }
}
