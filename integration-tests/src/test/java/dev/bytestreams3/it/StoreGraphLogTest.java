package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The start-up log names the store graph the server runs, outermost store first. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class StoreGraphLogTest {

  @TempDir Path dir;

  private static List<String> storeLines(ServerProcess server) {
    return server.log().stream().filter(l -> l.contains(" event=store ")).toList();
  }

  @Test
  void localStore_logLineNamesTheFolderAndItsLimit() throws Exception {
    List<String> args =
        List.of("--data-dir=" + dir, "--max-disk-bytes=" + (50L << 30), "--existence-cache-entries=500");
    try (ServerProcess server = ServerProcess.start(List.of(), args)) {
      assertThat(storeLines(server))
          .singleElement()
          .asString()
          .endsWith(
              " level=info event=store message=\"store: output-checked(existence-cached(ttl 1h,"
                  + " 500 entries, outage-gated(local " + dir + " (at most 50 GiB))))\"");
    }
  }

  @Test
  void s3Store_logLineNamesTheBucketAndPrefix() throws Exception {
    try (S3Server s3 = S3Server.start()) {
      List<String> args = new ArrayList<>(s3.serverArgs());
      args.add("--prefix=graph/");
      args.add("--existence-cache-ttl-seconds=600");
      try (ServerProcess server = ServerProcess.start(List.of(), args)) {
        assertThat(storeLines(server))
            .singleElement()
            .asString()
            .endsWith(
                " level=info event=store message=\"store: output-checked(existence-cached(ttl 10m,"
                    + " 100000 entries, outage-gated(s3://" + s3.bucket() + "/graph/)))\"");
      }
    }
  }

  @Test
  void s3StoreWithTier_logLineNamesTheTierInFrontOfTheBucket() throws Exception {
    Path tier = dir.resolve("tier");
    try (S3Server s3 = S3Server.start()) {
      List<String> args = new ArrayList<>(s3.serverArgs());
      args.add("--prefix=tiered/");
      args.add("--cache-dir=" + tier);
      args.add("--cache-max-bytes=" + (3L << 30));
      try (ServerProcess server = ServerProcess.start(List.of(), args)) {
        assertThat(storeLines(server))
            .singleElement()
            .asString()
            .endsWith(
                " level=info event=store message=\"store: output-checked(existence-cached(ttl 1h,"
                    + " 100000 entries, outage-gated(tiered(local " + tier + " (at most 3 GiB) -> s3://"
                    + s3.bucket() + "/tiered/))))\"");
      }
    }
  }
}
