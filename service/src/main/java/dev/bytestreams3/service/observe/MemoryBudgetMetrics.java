package dev.bytestreams3.service.observe;

import dev.bytestreams3.storage.MemoryBudget;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Gauges of the memory budget: bytes reserved now, the peak, the whole budget, and the
 * reservations waiting for bytes (calls paused until buffers are freed).
 */
public final class MemoryBudgetMetrics {

  private MemoryBudgetMetrics() {}

  /** Registers the gauges of {@code budget}; the registry reads it on every scrape. */
  public static void register(MemoryBudget budget, MeterRegistry registry) {
    Gauge.builder("bytestream.memory.budget.used", budget, MemoryBudget::usedBytes)
        .description("Bytes of the memory budget reserved by write buffers and read-ahead now")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.memory.budget.peak", budget, MemoryBudget::peakBytes)
        .description("The most bytes of the memory budget ever reserved at once")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.memory.budget.capacity", budget, MemoryBudget::capacityBytes)
        .description("The whole memory budget")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.memory.budget.waiting", budget, MemoryBudget::waitingReservations)
        .description("Reservations waiting for bytes of the memory budget now")
        .strongReference(true)
        .register(registry);
  }
}
