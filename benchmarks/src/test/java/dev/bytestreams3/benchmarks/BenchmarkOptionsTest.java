package dev.bytestreams3.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BenchmarkOptionsTest {

  @Test
  void defaults_areTheTargetsFigures_andQuickScalesThemDown() {
    BenchmarkOptions full = BenchmarkOptions.parse();
    BenchmarkOptions quick = BenchmarkOptions.parse("--quick");

    assertThat(full.largeMib()).isEqualTo(256);
    assertThat(full.warmUpBlobs()).isEqualTo(150);
    assertThat(quick.largeMib()).isEqualTo(32);
    assertThat(quick.warmUpBlobs()).isEqualTo(8);
  }

  @Test
  void flags_reproduceTheOptions() {
    BenchmarkOptions o = BenchmarkOptions.parse("--large-mib=64 --warm-up-blobs=3", "--skip-memory");

    assertThat(BenchmarkOptions.parse(o.flags())).isEqualTo(o);
    assertThat(o.flags()).contains("--large-mib=64 --warm-up-blobs=3 ").endsWith(" --skip-memory");
  }

  @Test
  void distantS3Flags_defaultToS3InTheSameRegion_andRoundTrip() {
    BenchmarkOptions full = BenchmarkOptions.parse();
    BenchmarkOptions o =
        BenchmarkOptions.parse("--s3-latency-ms=0 --s3-rate-kib=512 --rebuild-actions=10 --tier=false");

    assertThat(full.s3LatencyMs()).isEqualTo(20);
    assertThat(full.s3RateKib()).isZero();
    assertThat(full.rebuildActions()).isEqualTo(1000);
    assertThat(full.tier()).isTrue();
    assertThat(o.s3LatencyMs()).isZero();
    assertThat(o.tier()).isFalse();
    assertThat(BenchmarkOptions.parse(o.flags())).isEqualTo(o);
    assertThat(o.flags()).contains(" --s3-latency-ms=0 --s3-rate-kib=512").contains(" --tier=false");
    assertThatThrownBy(() -> BenchmarkOptions.parse("--s3-latency-ms=-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--s3-latency-ms: -1 (expected: an integer >= 0)");
  }

  @Test
  void badFlags_areNamed() {
    assertThatThrownBy(() -> BenchmarkOptions.parse("--warm-up-blobs=0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--warm-up-blobs: 0 (expected: a positive integer)");
    assertThatThrownBy(() -> BenchmarkOptions.parse("--warmup=3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("unknown flag --warmup (known: ");
    assertThatThrownBy(() -> BenchmarkOptions.parse("large-mib=3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("flag 'large-mib=3' (expected: --name=value)");
  }
}
