package dev.bytestreams3.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.config.StoreFactory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store graph a configuration builds, as the start-up log line names it. */
class StoreGraphTest {

  @TempDir Path dir;

  @Test
  void localConfiguration_outputCheckedOverExistenceCachedOverTheFolder() {
    ServerConfig config =
        ConfigLoader.load(
            new String[] {
              "--data-dir=" + dir, "--max-disk-bytes=" + (50L << 30),
              "--existence-cache-entries=2000", "--existence-cache-ttl-seconds=1800"
            },
            Map.of());
    try (StoreFactory stores = new StoreFactory(config)) {
      StoreGraph graph = StoreGraph.over(stores.open(), config);
      assertThat(graph.describe())
          .isEqualTo(
              "output-checked(existence-cached(ttl 30m, 2000 entries, local " + dir
                  + " (at most 50 GiB)))");
      assertThat(graph.store().describe()).isEqualTo(graph.describe());
    }
  }
}
