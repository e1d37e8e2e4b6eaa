package dev.bytestreams3.service.observe;

import dev.bytestreams3.storage.ExistenceCachedStore;
import dev.bytestreams3.storage.LifecycleCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * Meters of how the cache stays bounded: what the store holds, evicted and refreshed, and how the
 * existence cache answered (hits, misses, entries dropped because the blob was gone).
 */
public final class LifecycleMetrics {

  private LifecycleMetrics() {}

  /** Registers the meters; the registry reads {@code store} and {@code presence} on every scrape. */
  public static void register(
      LifecycleCounters store, ExistenceCachedStore presence, MeterRegistry registry) {
    Gauge.builder("bytestream.store.stored.objects", store, LifecycleCounters::storedObjects)
        .description("Blobs and objects the store holds (local store; S3 does not count them)")
        .strongReference(true)
        .register(registry);
    Gauge.builder("bytestream.store.stored", store, LifecycleCounters::storedBytes)
        .description("Bytes of blobs and objects the store holds (local store)")
        .baseUnit("bytes")
        .strongReference(true)
        .register(registry);
    counter(registry, "bytestream.store.evicted.objects", store, LifecycleCounters::evictedObjects,
        "Blobs and objects evicted to stay under the size limit", null);
    counter(registry, "bytestream.store.evicted", store, LifecycleCounters::evictedBytes,
        "Bytes evicted to stay under the size limit", "bytes");
    counter(registry, "bytestream.store.refreshed.objects", store,
        LifecycleCounters::refreshedObjects,
        "Blobs in use copied in place so that the bucket's expiry rule keeps them", null);
    counter(registry, "bytestream.store.refreshed", store, LifecycleCounters::refreshedBytes,
        "Bytes copied in place by refreshes", "bytes");
    counter(registry, "bytestream.existence.cache.hits", presence, ExistenceCachedStore::hits,
        "Existence checks answered from the existence cache", null);
    counter(registry, "bytestream.existence.cache.misses", presence, ExistenceCachedStore::misses,
        "Existence checks asked of the store (not cached, or cached too long)", null);
    counter(registry, "bytestream.existence.cache.invalidations", presence,
        ExistenceCachedStore::invalidations,
        "Existence-cache entries dropped because a read found the blob gone or it was evicted",
        null);
  }

  private static <T> void counter(
      MeterRegistry registry, String name, T obj, ToDoubleFunction<T> f, String description,
      String unit) {
    FunctionCounter.builder(name, obj, f).description(description).baseUnit(unit).register(registry);
  }
}
