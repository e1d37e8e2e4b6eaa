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

  private static List<WriteRequest> writes(String body, int pieceBytes) {
    JsonObjectSplitter s = new JsonObjectSplitter(1 << 20, WriteRequest.getDescriptor());
    List<WriteRequest> out = new ArrayList<>();
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i += pieceBytes) {
      s.feed(b, i, Math.min(pieceBytes, b.length - i), (json, len, values) -> {
        WriteRequest.Builder w = WriteRequest.newBuilder();
        BulkBytesJson.parse(json, len, values, w, new RequestBinder(false), "message " + s.objects() + " of the body");
        out.add(w.build());
      });
    }
    s.finish();
    return out;
  }

  private static WriteRequest ordinary(String json) {
    WriteRequest.Builder w = WriteRequest.newBuilder();
    new RequestBinder(false).mergeJson(json, w, "message 1 of the body");
    return w.build();
  }

  @Test
  void longBase64Values_decodeToTheSameMessageAsTheJsonMapping() {
    byte[] data = new byte[100_000];
    new Random(5).nextBytes(data);
    String body = "{\"resource_name\":\"files/a\",\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\",\"writeOffset\":\"7\"}";
    for (int piece : new int[] {1, 7, 8192, body.length()}) {
      List<WriteRequest> out = writes(body, piece);
      assertThat(out).hasSize(1);
      assertThat(out.get(0).getData().toByteArray()).isEqualTo(data);
      assertThat(out.get(0).getResourceName()).isEqualTo("files/a");
      assertThat(out.get(0).getWriteOffset()).isEqualTo(7);
    }

    WriteRequest w = writes(body, body.length()).get(0);
    String line = new String(BulkBytesJson.resultLine(w, JsonMessages.OMITTING_DEFAULTS), StandardCharsets.UTF_8);
    assertThat(line).isEqualTo("{\"result\":{\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\",\"resourceName\":\"files/a\",\"writeOffset\":\"7\"}}\n");
    // With every field emitted, the bulk field is printed once and the unset one as its default.
    String full = new String(BulkBytesJson.resultLine(w, new JsonMessages(true)), StandardCharsets.UTF_8);
    assertThat(full).isEqualTo("{\"result\":{\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\",\"resourceName\":\"files/a\",\"writeOffset\":\"7\",\"finishWrite\":false}}\n");
    WriteRequest small = WriteRequest.newBuilder().setWriteOffset(7).build();
    assertThat(new String(BulkBytesJson.resultLine(small, new JsonMessages(true)), StandardCharsets.UTF_8))
        .isEqualTo("{\"result\":{\"resourceName\":\"\",\"writeOffset\":\"7\",\"finishWrite\":false,\"data\":\"\"}}\n");
  }

  @Test
  void base64Variants_decodeAsTheJsonMappingDoes() {
    byte[] data = new byte[3000];
    new Random(6).nextBytes(data);
    for (int n : new int[] {0, 1, 2, 3, 4, 5, 3000}) {
      byte[] d = java.util.Arrays.copyOf(data, n);
      List<String> texts = List.of(
          Base64.getEncoder().encodeToString(d),
          Base64.getEncoder().withoutPadding().encodeToString(d),
          Base64.getUrlEncoder().encodeToString(d),
          Base64.getUrlEncoder().withoutPadding().encodeToString(d),
          // An escaped slash: the value goes through the ordinary mapping after all.
          Base64.getEncoder().encodeToString(d).replace("/", "\\/"));
      for (String text : texts) {
        String body = "{\"data\":\"" + text + "\",\"finishWrite\":true}\n";
        for (int piece : new int[] {1, 3, 5, body.length()}) {
          assertThat(writes(body, piece)).containsExactly(ordinary(body));
        }
      }
    }
  }

  @Test
  void badBase64_isRejected() {
    String mixed = "{\"data\":\"" + "AB+_".repeat(2000) + "\"}";
    for (int piece : new int[] {1, 5000, mixed.length()}) {
      assertThatThrownBy(() -> writes(mixed, piece))
          .hasMessage("message 1 of the body, field data is not base64: it mixes the standard and the URL-safe alphabet");
    }
    assertThatThrownBy(() -> writes("{\"data\":\"ABCDE\"}", 2))
        .hasMessage("message 1 of the body, field data is not base64: its last unit has one character");
    // Whatever the decoder stops at goes to the ordinary mapping, which judges it as it would have.
    for (String odd : new String[] {"AB=C", "AB===", "A=", "AB CD", "ABC?", "ABCD\\u0041", "AB\\u003d="}) {
      String body = "{\"data\":\"" + odd + "\"}";
      WriteRequest expected;
      try {
        expected = ordinary(body);
      } catch (GatewayError e) {
        assertThatThrownBy(() -> writes(body, 3)).isInstanceOf(GatewayError.class).hasMessage(e.getMessage());
        continue;
      }
      assertThat(writes(body, 3)).as(odd).containsExactly(expected);
    }
  }

  @Test
  void bulkValues_countTowardTheMessageSize() {
    JsonObjectSplitter s = new JsonObjectSplitter(1024, WriteRequest.getDescriptor());
    byte[] b = ("{\"data\":\"" + "A".repeat(2000) + "\"}").getBytes(StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> s.feed(b, 0, b.length, (json, len, values) -> {}))
        .hasMessage("JSON message 1 of the body is longer than 1024 bytes (the gateway's maximum message size)");
  }
}
