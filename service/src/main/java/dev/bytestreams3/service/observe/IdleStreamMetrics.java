package dev.bytestreams3.service.observe;

import dev.bytestreams3.service.bytestream.IdleLimits;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

/** The count of streams the server ended for keeping it waiting. */
public final class IdleStreamMetrics {

  private IdleStreamMetrics() {}

  /** Registers the counter of {@code idle}; the registry reads it on every scrape. */
  public static void register(IdleLimits idle, MeterRegistry registry) {
    FunctionCounter.builder("bytestream.idle.streams.ended", idle, IdleLimits::endedTotal)
        .description(
            "Writes that sent no message and reads that took nothing for the configured idle"
                + " time, ended with DEADLINE_EXCEEDED")
        .register(registry);
  }
}
