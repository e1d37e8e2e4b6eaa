package dev.bytestreams3.service.observe;

import dev.bytestreams3.service.bytestream.OpeningMessages;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Gauges and counters of the room for {@code Write}s' first messages: bytes held now, the calls
 * waiting for their turn, how many had to wait and for how long in all.
 */
public final class OpeningMessageMetrics {

  private OpeningMessageMetrics() {}

  /** Registers the meters of {@code opening}; the registry reads it on every scrape. */
  public static void register(OpeningMessages opening, MeterRegistry registry) {
    Gauge.builder("bytestream.opening.used", opening, OpeningMessages::usedBytes)
        .description("Bytes held for Writes' first messages now, beside the memory budget")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.opening.waiting", opening, OpeningMessages::waiting)
        .description("Writes waiting for their connection's turn of room for a first message now")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder("bytestream.opening.waits", opening, OpeningMessages::waitsTotal)
        .description("Writes that had to wait for room for their first message")
        .register(registry);
    FunctionCounter.builder(
            "bytestream.opening.wait", opening, o -> o.waitNanosTotal() / 1e9)
        .description("Time Writes granted room for their first message spent waiting, added up")
        .baseUnit("seconds")
        .register(registry);
  }
}
