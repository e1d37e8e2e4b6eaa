package dev.bytestreams3.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

  @Test
  void tierFolderThatCannotBeMade_isABadSettingNamingTheFolder() throws Exception {
    // A file where the tier's folder should be: no folder can be made under it.
    Path notAFolder = java.nio.file.Files.writeString(dir.resolve("plain-file"), "x");
    Path tierDir = notAFolder.resolve("tier");
    ServerConfig config =
        ConfigLoader.load(
            new String[] {"--data-dir=" + dir.resolve("data"), "--cache-dir=" + tierDir},
            Map.of());
    try (StoreFactory stores = new StoreFactory(config)) {
      assertThatThrownBy(stores::open)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "--cache-dir: cannot use " + tierDir + " as the local tier folder: " + tierDir
                  + ": Not a directory");
    }
  }

  @Test
  void dataFolderThatCannotBeMade_isABadSettingNamingTheFolder() throws Exception {
    Path notAFolder = java.nio.file.Files.writeString(dir.resolve("plain-file"), "x");
    Path dataDir = notAFolder.resolve("data");
    ServerConfig config = ConfigLoader.load(new String[] {"--data-dir=" + dataDir}, Map.of());
    try (StoreFactory stores = new StoreFactory(config)) {
      assertThatThrownBy(stores::open)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "--data-dir: cannot use " + dataDir + " as the store's folder: " + dataDir
                  + ": Not a directory");
    }
  }
}
