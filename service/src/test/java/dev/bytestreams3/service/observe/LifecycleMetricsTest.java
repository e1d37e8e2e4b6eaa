package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ExistenceCachedStore;
import dev.bytestreams3.storage.LifecycleCounters;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifecycle meters as a Prometheus scrape shows them. */
class LifecycleMetricsTest {

  @TempDir Path dir;

  @Test
  void scrape_showsStoreAndExistenceCacheCounts() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (LocalBlobStore store = new LocalBlobStore(dir, 1 << 20, 2)) {
      ExistenceCachedStore presence =
          new ExistenceCachedStore(store, 100, 2, Duration.ofHours(1), Clock.systemUTC());
      LifecycleCounters counters = store.lifecycle();
      counters.refreshed(7);
      LifecycleMetrics.register(counters, presence, registry);
      BlobKey key = BlobKey.of("cas/sha256/aa");
      store.put(key, ByteBuffer.wrap(new byte[5])).get(30, TimeUnit.SECONDS);
      presence.sizes(List.of(key)).get(30, TimeUnit.SECONDS);
      presence.sizes(List.of(key)).get(30, TimeUnit.SECONDS);
      // Gone behind the server's back: the read that finds it missing drops the cached answer.
      Files.delete(dir.resolve("blobs/cas/sha256/aa"));
      assertThat(presence.get(key, 5).handle((v, err) -> err != null).get(30, TimeUnit.SECONDS))
          .isTrue();

      String text = new MetricsText(registry).scrape();
      assertThat(text)
          .contains("bytestream_store_stored_objects 1.0")
          .contains("bytestream_store_stored_bytes 5.0")
          .contains("bytestream_store_evicted_objects_total 0.0")
          .contains("bytestream_store_evicted_bytes_total 0.0")
          .contains("bytestream_store_refreshed_objects_total 1.0")
          .contains("bytestream_store_refreshed_bytes_total 7.0")
          .contains("bytestream_existence_cache_hits_total 1.0")
          .contains("bytestream_existence_cache_misses_total 1.0")
          .contains("bytestream_existence_cache_invalidations_total 1.0");
    }
  }
}
