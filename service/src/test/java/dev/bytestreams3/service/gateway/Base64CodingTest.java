package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Base64CodingTest {

  private static String encode(ByteString b) {
    byte[] out = new byte[Base64Coding.encodedLength(b.size()) + 7];
    int end = Base64Coding.encode(b, out, 3);
    assertThat(end).isEqualTo(3 + Base64Coding.encodedLength(b.size()));
    return new String(out, 3, end - 3, StandardCharsets.US_ASCII);
  }

  @Test
  void encode_anyLayoutOfTheBytes_givesThePaddedStandardText() {
    Random r = new Random(7);
    for (int n : new int[] {0, 1, 2, 3, 5, 6, 7, 8, 9, 47, 100_001, 200_000}) {
      byte[] data = new byte[n];
      r.nextBytes(data);
      String expected = Base64.getEncoder().encodeToString(data);
      assertThat(encode(ByteString.copyFrom(data))).isEqualTo(expected);
      ByteBuffer direct = ByteBuffer.allocateDirect(n).put(data).flip();
      assertThat(encode(UnsafeByteOperations.unsafeWrap(direct))).isEqualTo(expected);
      // Pieces of odd sizes carry one or two bytes over to the next.
      ByteString rope = ByteString.EMPTY;
      int at = 0;
      for (int k = 0; at < n; k++) {
        int piece = Math.min(n - at, k % 2 == 0 ? 1000 : 4);
        rope = rope.concat(ByteString.copyFrom(data, at, piece));
        at += piece;
      }
      assertThat(encode(rope)).isEqualTo(expected);
    }
  }

  @Test
  void decode_textFedInAnyPieces_givesTheBytes() {
    Random r = new Random(8);
    Base64Coding.Decoder d = new Base64Coding.Decoder();
    for (int n : new int[] {0, 1, 2, 3, 4, 10, 4095, 100_000}) {
      byte[] data = new byte[n];
      r.nextBytes(data);
      for (Base64.Encoder e : new Base64.Encoder[] {Base64.getEncoder(), Base64.getUrlEncoder().withoutPadding()}) {
        byte[] text = (e.encodeToString(data) + "\"").getBytes(StandardCharsets.US_ASCII);
        for (int piece : new int[] {1, 3, 8, 13, text.length}) {
          // A wrong guess of the size, either way, only costs a copy.
          d.start(piece * 100);
          int at = 0;
          while (at < text.length - 1) {
            int to = Math.min(text.length, at + piece);
            int stop = d.feed(text, at, to);
            assertThat(stop).isEqualTo(Math.min(to, text.length - 1));
            at = stop;
          }
          assertThat(d.finish().toByteArray()).isEqualTo(data);
        }
      }
    }
  }

  @Test
  void decode_stopsAtTheFirstCharacterThatCannotContinue() {
    Base64Coding.Decoder d = new Base64Coding.Decoder();
    byte[] text = "QUJDRA==QQ".getBytes(StandardCharsets.US_ASCII);
    d.start(0);
    assertThat(d.feed(text, 0, text.length)).isEqualTo(8);
    assertThat(new String(d.textSoFar(), StandardCharsets.US_ASCII)).isEqualTo("QUJDRA==");

    byte[] escaped = "QUJD\\/w".getBytes(StandardCharsets.US_ASCII);
    d.start(0);
    assertThat(d.feed(escaped, 0, escaped.length)).isEqualTo(4);
    assertThat(Arrays.equals(d.textSoFar(), "QUJD".getBytes(StandardCharsets.US_ASCII))).isTrue();
  }
}
