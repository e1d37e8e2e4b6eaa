package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteRangeTest {

  @Test
  void ranges_resolveAgainstTheSize() throws Exception {
    assertThat(ByteRange.parse("bytes=0-99", 1000)).hasValue(new ByteRange(0, 100));
    assertThat(ByteRange.parse("bytes=900-", 1000)).hasValue(new ByteRange(900, 100));
    assertThat(ByteRange.parse("bytes=900-5000", 1000)).hasValue(new ByteRange(900, 100));
    assertThat(ByteRange.parse("bytes=-10", 1000)).hasValue(new ByteRange(990, 10));
    assertThat(ByteRange.parse("bytes=-5000", 1000)).hasValue(new ByteRange(0, 1000));
  }

  @Test
  void rangesThisServerDoesNotTake_meanTheWholeBlob() throws Exception {
    assertThat(ByteRange.parse(null, 1000)).isEmpty();
    assertThat(ByteRange.parse("bytes=0-1,5-6", 1000)).isEmpty();
    assertThat(ByteRange.parse("items=0-1", 1000)).isEmpty();
    assertThat(ByteRange.parse("bytes=9-3", 1000)).isEmpty();
  }

  @Test
  void rangesPastTheEnd_areUnsatisfiable() {
    assertThatThrownBy(() -> ByteRange.parse("bytes=1000-", 1000)).isInstanceOf(ByteRange.Unsatisfiable.class);
    assertThatThrownBy(() -> ByteRange.parse("bytes=-0", 1000)).isInstanceOf(ByteRange.Unsatisfiable.class);
    assertThatThrownBy(() -> ByteRange.parse("bytes=0-", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
  }
}
