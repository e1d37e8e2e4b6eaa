package dev.bytestreams3.service.observe;

import dev.bytestreams3.storage.LifecycleCounters;
import dev.bytestreams3.storage.tier.TierCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/** Meters of the local disk tier: hits, misses, fills, drops, what it holds and evicted. */
public final class TierMetrics {

  private TierMetrics() {}

  /** Registers the meters; the registry reads {@code tier} on every scrape. */
  public static void register(TierCounters tier, MeterRegistry registry) {
    counter(registry, "bytestream.tier.hits", tier, TierCounters::hits,
        "CAS reads served from the local tier", null);
    counter(registry, "bytestream.tier.hit", tier, TierCounters::hitBytes,
        "Bytes of the blobs served from the local tier", "bytes");
    counter(registry, "bytestream.tier.misses", tier, TierCounters::misses,
        "CAS reads the local tier did not hold, served from the store behind it", null);
    counter(registry, "bytestream.tier.fills", tier, TierCounters::fills,
        "Blobs copied into the local tier from the store behind it or from uploads", null);
    counter(registry, "bytestream.tier.filled", tier, TierCounters::fillBytes,
        "Bytes copied into the local tier", "bytes");
    counter(registry, "bytestream.tier.dropped", tier, TierCounters::dropped,
        "Local tier files dropped because their bytes did not match their digest", null);
    counter(registry, "bytestream.tier.rejected", tier, TierCounters::rejected,
        "Blobs read from the store behind the local tier and not kept because their bytes did not"
            + " match their digest",
        null);
    LifecycleCounters disk = tier.disk();
    Gauge.builder("bytestream.tier.stored.objects", disk, LifecycleCounters::storedObjects)
        .description("Blobs the local tier holds")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.tier.stored", disk, LifecycleCounters::storedBytes)
        .description("Bytes of blobs the local tier holds")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    counter(registry, "bytestream.tier.evicted.objects", disk, LifecycleCounters::evictedObjects,
        "Blobs evicted from the local tier to stay under --cache-max-bytes", null);
    counter(registry, "bytestream.tier.evicted", disk, LifecycleCounters::evictedBytes,
        "Bytes evicted from the local tier", "bytes");
  }

  private static <T> void counter(
      MeterRegistry registry, String name, T obj, ToDoubleFunction<T> f, String description,
      String unit) {
    FunctionCounter.builder(name, obj, f).description(description).baseUnit(unit).register(registry);
  }
}
