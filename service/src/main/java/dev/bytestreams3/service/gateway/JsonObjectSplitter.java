package dev.bytestreams3.service.gateway;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Cuts a byte stream of JSON objects (newline-delimited or simply concatenated) into one string
 * per object as the bytes arrive, holding at most one object of at most {@code maxBytes}.
 */
final class JsonObjectSplitter {

  private final int maxBytes;
  private byte[] buf = new byte[8192];
  private int len;
  private int depth;
  private boolean inString;
  private boolean escaped;
  private long objects;
  /** A bare word outside strings (a number, true, false or null), checked when it ends. */
  private final StringBuilder word = new StringBuilder();

  JsonObjectSplitter(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Feeds {@code data} and hands each object it completes to {@code sink}. */
  void feed(byte[] data, int off, int n, Consumer<String> sink) {
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
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0) {
          objects++;
          String json = new String(buf, 0, len, StandardCharsets.UTF_8);
          len = 0;
          sink.accept(json);
        }
      }
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
