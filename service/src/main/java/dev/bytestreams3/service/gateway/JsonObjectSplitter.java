package dev.bytestreams3.service.gateway;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a byte stream of JSON objects (newline-delimited or simply concatenated) into one object
 * at a time as the bytes arrive, holding at most one object of at most {@code maxBytes}.
 */
final class JsonObjectSplitter {

  /**
   * Takes one whole object, {@code json[0, len)}, valid only during the call, and the long string
   * values of its top-level fields.
   */
  @FunctionalInterface
  interface Sink {
    void accept(byte[] json, int len, List<LongString> longStrings);
  }

  /**
   * A top-level string value of at least {@link #LONG_STRING_CHARS} characters without escapes:
   * its key is {@code json[keyFrom, keyTo)}, its text {@code json[from, to)}.
   */
  record LongString(int keyFrom, int keyTo, int from, int to) {}

  static final int LONG_STRING_CHARS = 4096;

  private final int maxBytes;
  private byte[] buf = new byte[8192];
  private int len;
  private int depth;
  private boolean inString;
  private boolean escaped;
  private long objects;
  private int stringFrom;
  private boolean stringHasEscape;
  private boolean stringIsValue;
  private boolean expectValue;
  private int keyFrom;
  private int keyTo;
  private final List<LongString> longStrings = new ArrayList<>(2);
  /** A bare word outside strings (a number, true, false or null), checked when it ends. */
  private final StringBuilder word = new StringBuilder();

  JsonObjectSplitter(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Feeds {@code data} and hands each object it completes to {@code sink}. */
  void feed(byte[] data, int off, int n, Sink sink) {
    for (int i = off; i < off + n; i++) {
      byte c = data[i];
      if (depth == 0) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
          continue;
        }
        if (c != '{') {
          throw GatewayError.invalid(
              "the body is not a stream of JSON objects: message " + (objects + 1)
                  + " starts with '" + (char) (c & 0xff) + "'");
        }
      }
      // Copy runs inside a string in bulk: they hold no structure and are most of the bytes.
      if (inString && !escaped && c != '"' && c != '\\') {
        int end = i + 1;
        while (end < off + n && data[end] != '"' && data[end] != '\\') {
          end++;
        }
        append(data, i, end - i);
        i = end - 1;
        continue;
      }
      append(data, i, 1);
      if (!inString) {
        boolean wordChar = c != '"' && c != '{' && c != '}' && c != '[' && c != ']' && c != ','
            && c != ':' && c != ' ' && c != '\n' && c != '\r' && c != '\t';
        if (wordChar) {
          if (word.length() < 64) {
            word.append((char) (c & 0xff));
          } else {
            badWord();
          }
          continue;
        }
        if (word.length() > 0) {
          checkWord();
        }
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
          stringHasEscape = true;
        } else if (c == '"') {
          inString = false;
          closeString(len - 1);
        }
      } else if (c == '"') {
        inString = true;
        stringFrom = len;
        stringHasEscape = false;
        stringIsValue = depth == 1 && expectValue;
      } else if (c == ':' && depth == 1) {
        expectValue = true;
      } else if (c == ',' && depth == 1) {
        expectValue = false;
      } else if (c == '{' || c == '[') {
        depth++;
        expectValue = false;
      } else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0) {
          objects++;
          int n0 = len;
          len = 0;
          expectValue = false;
          try {
            sink.accept(buf, n0, longStrings);
          } finally {
            longStrings.clear();
          }
        }
      }
    }
  }

  private void closeString(int to) {
    if (depth != 1) {
      return;
    }
    if (!stringIsValue) {
      keyFrom = stringFrom;
      keyTo = to;
      return;
    }
    expectValue = false;
    if (!stringHasEscape && to - stringFrom >= LONG_STRING_CHARS) {
      longStrings.add(new LongString(keyFrom, keyTo, stringFrom, to));
    }
  }

  private void checkWord() {
    String w = word.toString();
    word.setLength(0);
    if (!w.equals("true") && !w.equals("false") && !w.equals("null") && !NUMBER.matcher(w).matches()) {
      throw GatewayError.invalid(
          "message " + (objects + 1) + " of the body is not valid JSON: unexpected '" + w + "'");
    }
  }

  private void badWord() {
    throw GatewayError.invalid(
        "message " + (objects + 1) + " of the body is not valid JSON: unexpected '" + word + "...'");
  }

  private static final java.util.regex.Pattern NUMBER =
      java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

  /** Checks that the stream did not end inside an object. */
  void finish() {
    if (depth != 0 || len != 0) {
      throw GatewayError.invalid(
          "the body ends inside JSON message " + (objects + 1) + " (" + len + " bytes of it)");
    }
  }

  /** Objects completed so far. */
  long objects() {
    return objects;
  }

  private void append(byte[] data, int from, int n) {
    if (len + n > maxBytes) {
      throw new GatewayError(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "JSON message " + (objects + 1) + " of the body is longer than " + maxBytes
                  + " bytes (the gateway's maximum message size)"),
          HttpStatus.REQUEST_ENTITY_TOO_LARGE);
    }
    if (len + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.min(maxBytes, Math.max(len + n, buf.length * 2)));
    }
    System.arraycopy(data, from, buf, len, n);
    len += n;
  }
}
