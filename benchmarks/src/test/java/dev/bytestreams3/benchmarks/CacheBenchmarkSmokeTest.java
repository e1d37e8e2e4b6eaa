package dev.bytestreams3.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Runs every scenario once with tiny figures, so that the harness keeps working. */
class CacheBenchmarkSmokeTest {

  @Test
  void tinyRun_measuresEveryScenario_andWritesTheReportAndChart() throws Exception {
    Path out = Files.createDirectories(Path.of("target", "smoke"));
    Report report =
        CacheBenchmark.run(
            BenchmarkOptions.parse(
                "--out=" + out,
                "--large-mib=10 --warm-up-blobs=2 --small-count=20 --concurrency=4 --find-count=20 --overhead-mib=2"
                    + " --flood-count=2 --flood-mib=6 --slow-object-mib=8 --slow-seconds=1"
                    + " --skip-distant"));

    String md = Files.readString(out.resolve(Report.MARKDOWN));
    for (String scenario :
        new String[] {
          "write 10 MiB in 16 KiB messages", "write 10 MiB in 1 MiB messages", "read 10 MiB",
          "20 writes of 4 KiB, 4 streams", "FindMissingBlobs of 20 digests, half present",
          "server write 2 MiB, local disk store", "server read 2 MiB, local disk store",
          "server write 2 MiB, in-memory store", "server read 2 MiB, in-memory store",
          "2 concurrent 6 MiB uploads", "slow reader"
        }) {
      assertThat(md).contains("| " + scenario);
    }
    assertThat(md).contains("2/2 complete");
    // The large writes name where each side's time and CPU went.
    assertThat(md)
        .containsPattern(
            "ours: [^|]*of its [0-9.]+ s, [0-9.]+ s waiting on CompleteMultipartUpload; baseline:"
                + " [^|]*of its [0-9.]+ s, [0-9.]+ s waiting on CompleteMultipartUpload");
    // The large rows give the bare relay to the SDK measured in the same rounds.
    assertThat(md)
        .containsPattern(
            "write 10 MiB in 16 KiB messages\\*\\*: .*in the same rounds a bare ByteStream service"
                + " handing each message to the SDK's multipart upload, checking, hashing and"
                + " recording nothing, made [0-9]+ MiB/s \\([0-9.]+× the baseline; best of its"
                + " rounds\\), against which ours makes [0-9.]+×");
    assertThat(md)
        .containsPattern(
            "read 10 MiB\\*\\*: .*in the same rounds a bare ByteStream service sending the same ranged"
                + " GETs' bytes as they arrive, checking, hashing and recording nothing, made"
                + " [0-9]+ MiB/s");
    // The JIT and the collector apart where /proc lists native threads, as one figure elsewhere.
    assertThat(md).containsPattern("(JIT [0-9.]+, GC [0-9.]+, VM other|JIT and GC) [0-9.]+ CPU s");
    assertThat(md).containsPattern("benchmark client [0-9.]+, AWS SDK");
    assertThat(md).containsPattern("[0-9.]+ CPU s in all, [0-9.]+ of [0-9]+ cores busy");
    // A local store's rows give the bare service doing only the file work, and the heap store's
    // what keeping the bytes costs the floor.
    assertThat(md)
        .containsPattern(
            "write 2 MiB, local disk store\\*\\*: .*a bare ByteStream service that only writes each"
                + " message to a new file, syncs every 4 MiB and at the end, and renames it over"
                + " the last took the bytes at [0-9]+ MiB/s \\([0-9.]+× the bare service\\),"
                + " against which ours makes [0-9.]+×");
    assertThat(md)
        .containsPattern(
            "read 2 MiB, local disk store\\*\\*: .*a bare ByteStream service that only sends the file"
                + " in 1 MiB reads while the client is ready gave the bytes at [0-9]+ MiB/s");
    assertThat(md)
        .containsPattern(
            "in-memory store\\*\\*: .*the floor keeping the last write's messages, as this store does,"
                + " took them at [0-9]+ MiB/s, against which ours makes [0-9.]+×, and with 1024"
                + " KiB windows on both sides ours wrote at [0-9]+ MiB/s against the floor's"
                + " [0-9]+ \\([0-9.]+×\\)");
    // Every row's full note below the table, the table keeping the first clause.
    assertThat(md).contains("## Notes of this run");
    assertThat(report.table()).doesNotContain("waiting on CompleteMultipartUpload");
    // The tmpfs rows appear where the machine has a writable /dev/shm.
    Path shm = Path.of("/dev/shm");
    // Thirteen rows, the honest client beside a hostile one among them, and the tmpfs pair.
    assertThat(report.table()).contains("beside 200 silent Writes and 10 stalled Reads");
    int rows = 13 + (Files.isDirectory(shm) && Files.isWritable(shm) ? 2 : 0);
    assertThat(report.table().lines().skip(2)).hasSize(rows).noneMatch(line -> line.contains("NaN"));
    byte[] png = Files.readAllBytes(out.resolve(Report.CHART));
    assertThat(Arrays.copyOf(png, 4)).containsExactly(0x89, 'P', 'N', 'G');
  }
}
