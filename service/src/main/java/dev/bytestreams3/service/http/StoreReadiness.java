package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether the store answers a lookup, asked at most once per {@code cacheFor}: every probe
 * within that time, and every probe while a lookup is under way, shares one answer, so a burst of
 * health checks costs the store one request. A lookup that fails or takes longer than {@code
 * timeout} means not ready. Thread-safe.
 */
public final class StoreReadiness {

  private static final BlobKey PROBE = BlobKey.of("readiness-probe");

  private final BlobStore store;
  private final Duration timeout;
  private final long cacheNanos;
  private final LongSupplier nanoClock;

  private CompletableFuture<Boolean> current;
  private long startedNanos;

  /** Lookups in a row, the latest included, that failed or did not answer in time. */
  private int failedInARow;

  public StoreReadiness(BlobStore store, Duration timeout, Duration cacheFor) {
    this(store, timeout, cacheFor, System::nanoTime);
  }

  StoreReadiness(BlobStore store, Duration timeout, Duration cacheFor, LongSupplier nanoClock) {
    this.store = requireNonNull(store, "store");
    this.timeout = requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    if (cacheFor.isNegative()) {
      throw new IllegalArgumentException("cacheFor: " + cacheFor + " (expected: >= 0)");
    }
    this.cacheNanos = cacheFor.toNanos();
    this.nanoClock = requireNonNull(nanoClock, "nanoClock");
  }

  /**
   * Completes with {@code true} when the store answered the latest lookup, {@code false} when it
   * failed or did not answer in time; never completes exceptionally. Why it failed is the store's
   * to log, not the probe's to repeat.
   */
  public synchronized CompletableFuture<Boolean> ready() {
    long now = nanoClock.getAsLong();
    if (current == null || (current.isDone() && now - startedNanos >= cacheNanos)) {
      startedNanos = now;
      current =
          store
              .size(PROBE)
              .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .handle((size, err) -> err == null);
      current.thenAccept(this::answered);
    }
    return current;
  }

  /**
   * Whether the latest {@link #UNREACHABLE_AFTER} lookups that have finished all found the store
   * unreachable; never waits, and starts a new lookup when the last one is older than {@code
   * cacheFor}. A caller asking on every call learns within about twice {@code timeout} plus
   * {@code cacheFor} that the store went away, and as soon as one lookup answers that it is back.
   * Two, not one: one slow answer (a cold connection, a pause) is not an outage.
   */
  public synchronized boolean unreachable() {
    ready();
    return failedInARow >= UNREACHABLE_AFTER;
  }

  /** Failed lookups in a row after which {@link #unreachable()} says so. */
  public static final int UNREACHABLE_AFTER = 2;

  private synchronized void answered(boolean ok) {
    failedInARow = ok ? 0 : failedInARow + 1;
  }

  /** How long a lookup may take before the store counts as unreachable. */
  public Duration timeout() {
    return timeout;
  }
}
