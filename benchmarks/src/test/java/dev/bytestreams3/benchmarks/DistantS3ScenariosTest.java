package dev.bytestreams3.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.s3.S3MockFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs the scenarios with S3 at a distance once with tiny figures, so that they keep working. */
class DistantS3ScenariosTest {

  @Test
  // Three servers, S3Mock and a proxy starting every S3 answer 20 ms late, on a shared machine.
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void tinyRun_givesEveryRow_withTheRequestsOfEachSideNamed() throws Exception {
    List<Row> rows;
    DistantS3Scenarios distant;
    try (S3MockFixture mock = S3MockFixture.start()) {
      distant =
          new DistantS3Scenarios(
              BenchmarkOptions.parse(
                  "--large-mib=10 --rebuild-actions=100 --rebuild-jobs=16 --rebuild-large-mib=1"),
              mock);
      distant.runAll();
      rows = distant.rows();
    }

    assertThat(rows)
        .extracting(Row::scenario)
        .containsExactly(
            "warm rebuild of 100 actions (201 outputs, 3 MiB), S3 20 ms away, no tier",
            "warm rebuild of 100 actions (201 outputs, 3 MiB), S3 20 ms away, tier warm",
            "S3 requests to write 10 MiB", "S3 requests to read 10 MiB",
            "S3 requests to write 4 KiB", "S3 requests to read 4 KiB",
            "read 10 MiB twice through the tier, second read", "read 10 MiB through the tier, cold");
    assertThat(rows).allSatisfy(r -> assertThat(r.ours()).isPositive());
    assertThat(rows).allSatisfy(r -> assertThat(r.baseline()).isPositive());
    // The replays on S3 without the tier read their outputs from S3; with the tier warm, none.
    assertThat(rows.get(0).note())
        .containsPattern("; [0-9]+ S3 requests, [1-9][0-9]* of them GETs of CAS blobs, a replay");
    assertThat(rows.get(1).note()).contains("; 0 GETs of CAS blobs in 5 replays");
    // The tier and its baseline are measured in turn, after replays that warm both.
    assertThat(rows.get(1).note())
        .contains("; best of 5 taken in turn with the baseline's, after 2 that warm both; ");
    assertThat(rows.get(0).note()).contains("(best of 5); ").contains("; best of 3; ");
    // Each replay's requests are named by kind: reads without the tier are ranged GETs.
    assertThat(rows.get(0).note()).containsPattern("a replay \\(in 3 replays: [^)]*[1-9][0-9]* GET_RANGE");
    assertThat(rows.get(1).note()).containsPattern("S3 requests a replay \\(in 5 replays: [^)]+\\)");
    assertThat(rows.get(6).note())
        .contains("; best of 3 blobs, each read 3 times from both in turn; 0 GETs of CAS blobs"
            + " in the second reads");
    // The second reads start once the tier has checked and kept each blob, and say how long it took.
    assertThat(rows.get(6).note())
        .containsPattern("each once the tier had checked and kept its blob \\(at most [0-9]+\\.[0-9]{2} s after");
    // The SDK's requests are what its calls make: a multipart upload of two parts, ranged GETs.
    assertThat(rows.get(2).note())
        .endsWith("; baseline: 2 UPLOAD_PART, 1 CREATE_MULTIPART, 1 COMPLETE_MULTIPART");
    assertThat(rows.get(2).baseline()).isEqualTo(4);
    assertThat(rows.get(3).note()).endsWith("; baseline: 2 GET_RANGE");
    assertThat(rows.get(4).note()).endsWith("; baseline: 1 PUT_OBJECT");
    assertThat(rows.get(5).note()).endsWith("; baseline: 1 GET_RANGE");
    assertThat(distant.rebuildSeconds()).hasSize(3);

    Path out = Files.createDirectories(Path.of("target", "distant"));
    new Report(rows, List.of(new double[] {1, 1, 1}), distant.rebuildSeconds(), "--quick")
        .write(out, "");
    String md = Files.readString(out.resolve(Report.MARKDOWN));
    assertThat(md).contains("![a warm rebuild's time on each store](" + Report.REBUILD_CHART + ")");
    assertThat(md).contains("- **S3 requests to write 4 KiB**: baseline: one PutObject; ");
    byte[] png = Files.readAllBytes(out.resolve(Report.REBUILD_CHART));
    assertThat(Arrays.copyOf(png, 4)).containsExactly(0x89, 'P', 'N', 'G');
  }
}
