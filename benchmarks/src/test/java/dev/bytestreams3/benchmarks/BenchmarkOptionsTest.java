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
