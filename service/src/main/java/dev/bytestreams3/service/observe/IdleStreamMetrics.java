package dev.bytestreams3.service.observe;

import dev.bytestreams3.service.bytestream.IdleLimits;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

/** The counts of streams the server ended for keeping it waiting, or for want of room. */
public final class IdleStreamMetrics {

  private IdleStreamMetrics() {}

  /** Registers the counter of {@code idle}; the registry reads it on every scrape. */
  public static void register(IdleLimits idle, MeterRegistry registry) {
    FunctionCounter.builder("bytestream.idle.streams.ended", idle, IdleLimits::endedTotal)
        .description(
            "Writes that sent no message and reads that took nothing for the configured idle"
                + " time, ended with DEADLINE_EXCEEDED")
        .register(registry);
    FunctionCounter.builder(
            "bytestream.opening.turned.away", idle, IdleLimits::turnedAwayTotal)
        .description(
            "Writes ended with RESOURCE_EXHAUSTED because no room for their first message came"
                + " within twice the first-message timeout while other Writes of their connection"
                + " held room and sent nothing")
        .register(registry);
  }
}
