package dev.bytestreams3.service.gateway;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Base64 straight between the bytes of a JSON text and the bytes of a message, at any offset and
 * across pieces of a stream, so that bulk bytes are coded in one pass without intermediate copies.
 */
final class Base64Coding {

  private static final byte[] STANDARD =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
          .getBytes(StandardCharsets.US_ASCII);

  /**
   * Bits that mark the characters only the standard and only the URL-safe alphabet have. They lie
   * where combining four values into three bytes drops them, so the values need no masking.
   */
  private static final int STANDARD_ONLY = 1 << 24;
  private static final int URL_ONLY = 1 << 25;

  /** The value of each character (low six bits) and its alphabet mark; -1 for the rest. */
  private static final int[] VALUES = new int[256];

  /** The two characters of each 12 bits, the first in the high byte. */
  private static final short[] PAIRS = new short[1 << 12];

  private static final VarHandle BIG_ENDIAN_LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  /**
   * The twelve bits of each two characters (the first in the high byte) with their alphabet marks;
   * -1 where either is not base64. Halves the lookups of decoding, at 256 KiB.
   */
  private static final int[] PAIR_VALUES = new int[1 << 16];

  static {
    for (int i = 0; i < PAIRS.length; i++) {
      PAIRS[i] = (short) (STANDARD[i >>> 6] << 8 | STANDARD[i & 63]);
    }
    Arrays.fill(VALUES, -1);
    for (int i = 0; i < 62; i++) {
      VALUES[STANDARD[i]] = i;
    }
    VALUES['+'] = 62 | STANDARD_ONLY;
    VALUES['/'] = 63 | STANDARD_ONLY;
    VALUES['-'] = 62 | URL_ONLY;
    VALUES['_'] = 63 | URL_ONLY;
    for (int i = 0; i < PAIR_VALUES.length; i++) {
      int high = VALUES[i >>> 8];
      int low = VALUES[i & 0xff];
      PAIR_VALUES[i] =
          high < 0 || low < 0 ? -1 : (high & 63) << 6 | (low & 63) | ((high | low) & ~63);
    }
  }

  private Base64Coding() {}

  /** The length of the padded standard base64 text of {@code n} bytes. */
  static int encodedLength(int n) {
    return (n + 2) / 3 * 4;
  }

  /**
   * Writes the padded standard base64 text of {@code src} into {@code dst} from {@code at} and
   * returns the index after it. The bytes are read where they lie, not copied first.
   */
  static int encode(ByteString src, byte[] dst, int at) {
    Encoding e = new Encoding(dst, at);
    try {
      UnsafeByteOperations.unsafeWriteTo(src, e);
    } catch (IOException impossible) {
      throw new UncheckedIOException(impossible);
    }
    return e.finish();
  }

  /** Encodes the pieces of one {@link ByteString}, carrying up to two bytes between pieces. */
  private static final class Encoding extends ByteOutput {

    private final byte[] dst;
    private final byte[] carry = new byte[3];
    private int carried;
    private int at;

    Encoding(byte[] dst, int at) {
      this.dst = dst;
      this.at = at;
    }

    @Override
    public void write(byte b) {
      carry[carried++] = b;
      if (carried == 3) {
        at = Base64Coding.encode(carry, 0, 3, dst, at);
        carried = 0;
      }
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      int from = offset;
      int to = offset + length;
      while (carried != 0 && from < to) {
        write(value[from++]);
      }
      int whole = to - (to - from) % 3;
      at = Base64Coding.encode(value, from, whole, dst, at);
      for (int k = whole; k < to; k++) {
        write(value[k]);
      }
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      write(value, offset, length);
    }

    @Override
    public void write(ByteBuffer value) {
      ByteBuffer v = value.duplicate();
      if (v.hasArray()) {
        write(v.array(), v.arrayOffset() + v.position(), v.remaining());
        return;
      }
      byte[] piece = new byte[Math.min(v.remaining(), 48 << 10)];
      while (v.hasRemaining()) {
        int n = Math.min(piece.length, v.remaining());
        v.get(piece, 0, n);
        write(piece, 0, n);
      }
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      write(value);
    }

    int finish() {
      return Base64Coding.encode(carry, 0, carried, dst, at);
    }
  }

  private static int encode(byte[] src, int from, int to, byte[] dst, int at) {
    int i = from;
    int whole = to - (to - from) % 3;
    // Six bytes to eight characters at a time: one read, four lookups of two characters, one write.
    while (i + 8 <= to && at + 8 <= dst.length && i + 6 <= whole) {
      long w = (long) BIG_ENDIAN_LONGS.get(src, i);
      long text = (long) PAIRS[(int) (w >>> 52)] << 48
          | (long) PAIRS[(int) (w >>> 40) & 0xfff] << 32
          | (long) PAIRS[(int) (w >>> 28) & 0xfff] << 16
          | PAIRS[(int) (w >>> 16) & 0xfff];
      BIG_ENDIAN_LONGS.set(dst, at, text);
      i += 6;
      at += 8;
    }
    while (i < whole) {
      int bits = (src[i] & 0xff) << 16 | (src[i + 1] & 0xff) << 8 | (src[i + 2] & 0xff);
      dst[at] = STANDARD[bits >>> 18];
      dst[at + 1] = STANDARD[(bits >>> 12) & 63];
      dst[at + 2] = STANDARD[(bits >>> 6) & 63];
      dst[at + 3] = STANDARD[bits & 63];
      i += 3;
      at += 4;
    }
    if (to - i == 1) {
      int bits = (src[i] & 0xff) << 16;
      dst[at] = STANDARD[bits >>> 18];
      dst[at + 1] = STANDARD[(bits >>> 12) & 63];
      dst[at + 2] = '=';
      dst[at + 3] = '=';
      at += 4;
    } else if (to - i == 2) {
      int bits = (src[i] & 0xff) << 16 | (src[i + 1] & 0xff) << 8;
      dst[at] = STANDARD[bits >>> 18];
      dst[at + 1] = STANDARD[(bits >>> 12) & 63];
      dst[at + 2] = STANDARD[(bits >>> 6) & 63];
      dst[at + 3] = '=';
      at += 4;
    }
    return at;
  }

  /**
   * Decodes one base64 text (standard or URL-safe, padded or not) fed in pieces, into one array
   * that becomes the value without a further copy. Feeding stops at the first character that
   * cannot continue the text, which the caller judges (a closing quote, an escape, junk).
   */
  static final class Decoder {

    private byte[] out = new byte[0];
    private int len;
    private int group;
    private int groupChars;
    private int padding;
    private int marks;

    /** Starts a new text, expecting about {@code expectedBytes} of output. */
    void start(int expectedBytes) {
      out = new byte[Math.max(expectedBytes, 256)];
      len = 0;
      group = 0;
      groupChars = 0;
      padding = 0;
      marks = 0;
    }

    /**
     * Decodes {@code text[from, to)} up to the first character that cannot continue the text;
     * returns its index, or {@code to}.
     */
    int feed(byte[] text, int from, int to) {
      int i = from;
      while (i < to && (groupChars != 0 || padding != 0)) {
        if (!step(text[i])) {
          return i;
        }
        i++;
      }
      while (true) {
        i = run(text, i, to);
        if (to - i < 4 || len + 3 <= out.length || (VALUES[text[i] & 0xff] | VALUES[text[i + 1] & 0xff]
            | VALUES[text[i + 2] & 0xff] | VALUES[text[i + 3] & 0xff]) < 0) {
          break;
        }
        // Out of room while the text goes on: the value is longer than the last one.
        out = Arrays.copyOf(out, Math.max(len + (to - i) / 4 * 3, out.length * 2));
      }
      while (i < to && step(text[i])) {
        i++;
      }
      return i;
    }

    /**
     * Decodes whole units of {@code text[i, to)} while they are base64 and there is room; returns
     * the index of the first unit it did not decode.
     */
    private int run(byte[] text, int i, int to) {
      byte[] o = out;
      int at = len;
      int[] v = VALUES;
      int seen = 0;
      int[] pairs = PAIR_VALUES;
      // Eight characters at a time: one read, four lookups of two characters, one write of which
      // the last two bytes are slack.
      while (i + 8 <= to && at + 8 <= o.length) {
        long w = (long) BIG_ENDIAN_LONGS.get(text, i);
        int p0 = pairs[(int) (w >>> 48)];
        int p1 = pairs[(int) (w >>> 32) & 0xffff];
        int p2 = pairs[(int) (w >>> 16) & 0xffff];
        int p3 = pairs[(int) w & 0xffff];
        int all = p0 | p1 | p2 | p3;
        if (all < 0) {
          break;
        }
        seen |= all;
        long first = (p0 << 12 | (p1 & 0xfff)) & 0xffffffL;
        long second = (p2 << 12 | (p3 & 0xfff)) & 0xffffffL;
        BIG_ENDIAN_LONGS.set(o, at, first << 40 | second << 16);
        at += 6;
        i += 8;
      }
      while (i + 4 <= to && at + 3 <= o.length) {
        int a = v[text[i] & 0xff];
        int b = v[text[i + 1] & 0xff];
        int c = v[text[i + 2] & 0xff];
        int d = v[text[i + 3] & 0xff];
        int all = a | b | c | d;
        if (all < 0) {
          break;
        }
        seen |= all;
        int bits = a << 18 | b << 12 | c << 6 | d;
        o[at] = (byte) (bits >>> 16);
        o[at + 1] = (byte) (bits >>> 8);
        o[at + 2] = (byte) bits;
        at += 3;
        i += 4;
      }
      len = at;
      marks |= seen;
      return i;
    }

    /** Takes one character outside the four-at-a-time loop; false if it cannot continue. */
    private boolean step(byte ch) {
      if (ch == '=') {
        if (groupChars + padding < 2 || groupChars + padding == 4) {
          return false;
        }
        padding++;
        return true;
      }
      int v = VALUES[ch & 0xff];
      if (v < 0 || padding != 0) {
        return false;
      }
      marks |= v;
      group = group << 6 | (v & 63);
      if (++groupChars == 4) {
        if (len + 3 > out.length) {
          out = Arrays.copyOf(out, Math.max(len + 3, out.length * 2));
        }
        out[len] = (byte) (group >>> 16);
        out[len + 1] = (byte) (group >>> 8);
        out[len + 2] = (byte) group;
        len += 3;
        group = 0;
        groupChars = 0;
      }
      return true;
    }

    /**
     * Ends the text and returns its bytes.
     *
     * @throws IllegalArgumentException saying why the text is not base64
     */
    ByteString finish() {
      if ((marks & (STANDARD_ONLY | URL_ONLY)) == (STANDARD_ONLY | URL_ONLY)) {
        throw new IllegalArgumentException("it mixes the standard and the URL-safe alphabet");
      }
      if (groupChars == 1) {
        throw new IllegalArgumentException("its last unit has one character");
      }
      if (groupChars == 2) {
        out = ensure(out, len + 1);
        out[len++] = (byte) (group >>> 4);
      } else if (groupChars == 3) {
        out = ensure(out, len + 2);
        out[len++] = (byte) (group >>> 10);
        out[len++] = (byte) (group >>> 2);
      }
      groupChars = 0;
      byte[] bytes = len < out.length / 2 ? Arrays.copyOf(out, len) : out;
      out = new byte[0];
      return UnsafeByteOperations.unsafeWrap(bytes, 0, len);
    }

    /**
     * The text fed so far, written back in the alphabet it used, for when the value has to go
     * through the ordinary JSON mapping after all.
     *
     * @throws IllegalArgumentException if the text mixes the two alphabets, which no mapping takes
     */
    byte[] textSoFar() {
      if ((marks & (STANDARD_ONLY | URL_ONLY)) == (STANDARD_ONLY | URL_ONLY)) {
        throw new IllegalArgumentException("it mixes the standard and the URL-safe alphabet");
      }
      byte[] text = new byte[encodedLength(len) + groupChars + padding];
      int at = encode(out, 0, len, text, 0);
      for (int k = groupChars - 1; k >= 0; k--) {
        text[at++] = STANDARD[(group >>> (6 * k)) & 63];
      }
      for (int k = 0; k < padding; k++) {
        text[at++] = '=';
      }
      if ((marks & URL_ONLY) != 0) {
        for (int k = 0; k < at; k++) {
          if (text[k] == '+') {
            text[k] = '-';
          } else if (text[k] == '/') {
            text[k] = '_';
          }
        }
      }
      out = new byte[0];
      return Arrays.copyOf(text, at);
    }

    private static byte[] ensure(byte[] b, int n) {
      return n <= b.length ? b : Arrays.copyOf(b, n);
    }
  }
}
