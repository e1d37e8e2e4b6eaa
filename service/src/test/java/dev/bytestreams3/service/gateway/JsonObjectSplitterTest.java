package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonObjectSplitterTest {

  private static List<String> split(String body, int pieceBytes, int max) {
    JsonObjectSplitter s = new JsonObjectSplitter(max);
    List<String> out = new ArrayList<>();
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i += pieceBytes) {
      s.feed(b, i, Math.min(pieceBytes, b.length - i), (json, len, longs) -> out.add(new String(json, 0, len, StandardCharsets.UTF_8)));
    }
    s.finish();
    return out;
  }

  @Test
  void objectsSplitAnywhere_comeOutWhole() {
    String body = "{\"a\":\"x}{\\\"y\"}\n  {\"b\":[1,{\"c\":true}]}{\"d\":null}";
    for (int piece = 1; piece <= body.length(); piece++) {
      assertThat(split(body, piece, 1024))
          .containsExactly("{\"a\":\"x}{\\\"y\"}", "{\"b\":[1,{\"c\":true}]}", "{\"d\":null}");
    }
  }

  @Test
  void badStreams_nameTheMessage() {
    assertThatThrownBy(() -> split("{}\n{\"a\":1}x", 3, 1024)).hasMessageContaining("message 3 starts with 'x'");
    assertThatThrownBy(() -> split("{\"a\":tru}", 3, 1024)).hasMessage("message 1 of the body is not valid JSON: unexpected 'tru'");
    assertThatThrownBy(() -> split("{\"a\":1}{\"b\"", 3, 1024)).hasMessageContaining("ends inside JSON message 2");
    assertThatThrownBy(() -> split("{\"a\":\"" + "x".repeat(2000) + "\"}", 100, 1024))
        .hasMessage("JSON message 1 of the body is longer than 1024 bytes (the gateway's maximum message size)");
  }

  @Test
  void longBase64Values_decodeToTheSameMessageAsTheJsonMapping() {
    byte[] data = new byte[100_000];
    new Random(5).nextBytes(data);
    String body = "{\"resource_name\":\"files/a\",\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\",\"writeOffset\":\"7\"}";
    JsonObjectSplitter s = new JsonObjectSplitter(1 << 20);
    List<WriteRequest> out = new ArrayList<>();
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    s.feed(b, 0, b.length, (json, len, longs) -> {
      assertThat(longs).hasSize(1);
      WriteRequest.Builder w = WriteRequest.newBuilder();
      BulkBytesJson.parse(json, len, longs, w, new RequestBinder(false), "message 1");
      out.add(w.build());
    });
    assertThat(out).hasSize(1);
    assertThat(out.get(0).getData().toByteArray()).isEqualTo(data);
    assertThat(out.get(0).getResourceName()).isEqualTo("files/a");
    assertThat(out.get(0).getWriteOffset()).isEqualTo(7);

    String line = new String(BulkBytesJson.resultLine(out.get(0)), StandardCharsets.UTF_8);
    assertThat(line).isEqualTo("{\"result\":{\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\",\"resourceName\":\"files/a\",\"writeOffset\":\"7\"}}\n");
  }
}
