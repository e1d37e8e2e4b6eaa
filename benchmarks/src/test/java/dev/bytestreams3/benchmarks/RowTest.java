package dev.bytestreams3.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The verdict a row shows: met, missed, or missed at a limit it names. */
class RowTest {

  @Test
  void aMissedRow_namesTheLimitItWasGiven() {
    Row missed = Row.compared("write", "MiB/s", 300, 1000, 0.7, true, "note");

    assertThat(missed.verdict()).isEqualTo("**no**");
    assertThat(missed.limitedBy("the disk's").verdict()).isEqualTo("no; limit: the disk's");
  }

  @Test
  void aRowWithoutTarget_showsItsRatioAndNoVerdict() {
    Row measured = Row.measured("rebuild on S3", "s", 12, 3, "baseline: local");

    assertThat(measured.verdict()).isEqualTo("—");
    assertThat(measured.ratioText()).isEqualTo("4.00×");
  }

  @Test
  void theTable_keepsEachNotesFirstClause() {
    assertThat(Report.shortNote("baseline: SDK multipart upload; best of 3; ours: 1.2 CPU s"))
        .isEqualTo("baseline: SDK multipart upload");
    assertThat(Report.shortNote("lower is better")).isEqualTo("lower is better");
  }

  @Test
  void aMetRow_staysMet_whateverLimitItIsGiven() {
    Row met = Row.compared("read", "MiB/s", 800, 1000, 0.7, true, "note");
    Row lowerIsBetter = Row.compared("p99", "ms", 1400, 1000, 1.5, false, "note");

    assertThat(met.limitedBy("the disk's").verdict()).isEqualTo("yes");
    assertThat(lowerIsBetter.verdict()).isEqualTo("yes");
    assertThat(Row.compared("p99", "ms", 1600, 1000, 1.5, false, "").verdict())
        .isEqualTo("**no**");
  }

  @Test
  void aRatioShownAtItsBound_hasMetIt() {
    assertThat(Row.compared("write", "MiB/s", 135.96, 170, 0.8, true, "").ratioText())
        .isEqualTo("0.79×");
    assertThat(Row.compared("write", "MiB/s", 136, 170, 0.8, true, "").ratioText())
        .isEqualTo("0.80×");
    assertThat(Row.compared("p99", "ms", 1500.4, 1000, 1.5, false, "").ratioText())
        .isEqualTo("1.51×");
    assertThat(Row.compared("p99", "ms", 1500, 1000, 1.5, false, "").ratioText())
        .isEqualTo("1.50×");
    assertThat(Row.compared("find", "s", 4.57, 8.09, 1.0, false, "").ratioText())
        .isEqualTo("0.57×");
  }

  @Test
  void aRatioAgainstAFloor_isShownAtItsBoundOnlyWhenItReachesIt() {
    assertThat(Row.atLeastText(0.7996)).isEqualTo("0.79×");
    assertThat(Row.atLeastText(0.8)).isEqualTo("0.80×");
    assertThat(Row.atLeastText(1.0999)).isEqualTo("1.09×");
    assertThat(Row.atMostText(1.5001)).isEqualTo("1.51×");
  }
}
