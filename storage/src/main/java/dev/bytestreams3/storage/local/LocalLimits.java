package dev.bytestreams3.storage.local;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * How a local store stays bounded: the most bytes of published blobs and objects it keeps (empty:
 * half of what it may use on its disk, see {@link DiskIndex}), and how long an unfinished upload or
 * a temporary file may sit untouched before it is swept away.
 */
public record LocalLimits(OptionalLong maxBytes, Duration idleTimeout, Clock clock) {

  public LocalLimits {
    requireNonNull(maxBytes, "maxBytes");
    requireNonNull(idleTimeout, "idleTimeout");
    requireNonNull(clock, "clock");
    if (maxBytes.isPresent() && maxBytes.getAsLong() <= 0) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes.getAsLong() + " (expected: > 0)");
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: > 0)");
    }
  }

  /** No size limit to speak of, uploads swept after a day idle. */
  public static LocalLimits unbounded() {
    return new LocalLimits(OptionalLong.of(Long.MAX_VALUE), Duration.ofDays(1), Clock.systemUTC());
  }
}
