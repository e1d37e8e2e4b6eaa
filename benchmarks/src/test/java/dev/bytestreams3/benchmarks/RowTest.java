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
  void aMetRow_staysMet_whateverLimitItIsGiven() {
    Row met = Row.compared("read", "MiB/s", 800, 1000, 0.7, true, "note");
    Row lowerIsBetter = Row.compared("p99", "ms", 1400, 1000, 1.5, false, "note");

    assertThat(met.limitedBy("the disk's").verdict()).isEqualTo("yes");
    assertThat(lowerIsBetter.verdict()).isEqualTo("yes");
    assertThat(Row.compared("p99", "ms", 1600, 1000, 1.5, false, "").verdict())
        .isEqualTo("**no**");
  }
}
