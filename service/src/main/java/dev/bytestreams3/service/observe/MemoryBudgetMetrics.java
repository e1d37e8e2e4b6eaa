package dev.bytestreams3.service.observe;

import dev.bytestreams3.storage.MemoryBudget;
import io.micrometer.core.instrument.FunctionCounter;
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
    Gauge.builder("bytestream.memory.budget.waiting", budget, MemoryBudget::waiting)
        .description("Reservations waiting for the memory budget now")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder("bytestream.memory.budget.waits", budget, MemoryBudget::waitsTotal)
        .description("Reservations that had to wait for the memory budget")
        .register(registry);
    FunctionCounter.builder(
            "bytestream.memory.budget.wait", budget, b -> b.waitNanosTotal() / 1e9)
        .description("Time granted reservations spent waiting for the memory budget, added up")
        .baseUnit("seconds")
        .register(registry);
    FunctionCounter.builder("bytestream.memory.budget.refused", budget, MemoryBudget::refusedTotal)
        .description(
            "Requests refused because one buffer would exceed the largest share of the budget"
                + " (a quarter), such as uploads declaring sizes whose parts would")
        .register(registry);
    Gauge.builder("bytestream.memory.budget.max.reservation", budget, MemoryBudget::maxReservationBytes)
        .description("The most bytes one buffer may reserve")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.memory.budget.capacity", budget, MemoryBudget::capacityBytes)
        .description("The whole memory budget")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
  }
}
