package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogFormatTest {

  private static Map<String, Object> fields() {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("event", "rpc");
    f.put("resource", "files/a \"b\"=c\n");
    f.put("empty", "");
    f.put("bytes", 12L);
    f.put("ms", 1.5);
    return f;
  }

  @Test
  void text_quotesOnlyWhatNeedsIt() {
    assertThat(LogFormat.TEXT.line(fields()))
        .isEqualTo("event=rpc resource=\"files/a \\\"b\\\"=c\\u000a\" empty=\"\" bytes=12 ms=1.5");
  }

  @Test
  void json_escapesStringsAndKeepsNumbers() {
    assertThat(LogFormat.JSON.line(fields()))
        .isEqualTo(
            "{\"event\":\"rpc\",\"resource\":\"files/a \\\"b\\\"=c\\n\",\"empty\":\"\",\"bytes\":12,\"ms\":1.5}");
  }

  @Test
  void parse_namesTheSetting() {
    assertThat(LogFormat.parse("JSON")).isEqualTo(LogFormat.JSON);
    assertThatThrownBy(() -> LogFormat.parse("xml"))
        .hasMessage("--log-format: 'xml' (expected: text or json)");
  }
}
