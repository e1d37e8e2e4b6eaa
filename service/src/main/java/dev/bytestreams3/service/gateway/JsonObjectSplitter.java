package dev.bytestreams3.service.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a byte stream of JSON objects (newline-delimited or simply concatenated) into one object
 * at a time as the bytes arrive, holding at most one object of at most {@code maxBytes}.
 *
 * <p>Given a message type, the base64 string values of its top-level {@code bytes} fields are
 * decoded as they arrive instead of being held: they are most of the bytes of a chunk of data,
 * and this way each of their characters is read once. The object handed on holds {@code ""} in
 * their place, so that the ordinary JSON mapping still checks the keys.
 */
final class JsonObjectSplitter {

  /**
   * Takes one whole object, {@code json[0, len)}, and the decoded values of its bulk fields, both
   * valid only during the call.
   */
  @FunctionalInterface
  interface Sink {
    void accept(byte[] json, int len, List<BulkValue> values);
  }

  /** The decoded value of a top-level {@code bytes} field, whose place in the JSON holds "". */
  record BulkValue(FieldDescriptor field, ByteString value) {}

  private record BulkField(byte[] key, FieldDescriptor field) {}

  private final int maxBytes;
  private final List<BulkField> bulkFields = new ArrayList<>(2);
  private final Base64Coding.Decoder decoder = new Base64Coding.Decoder();
  private byte[] buf = new byte[8192];
  private int len;
  /** Characters of the current object that were decoded rather than held. */
  private int skipped;
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
  private boolean keyHasEscape;
  /** The field whose value is being decoded, or null. */
  private FieldDescriptor bulk;
  private int lastBulkBytes = 64 << 10;
  private final List<BulkValue> values = new ArrayList<>(2);
  /** A bare word outside strings (a number, true, false or null), checked when it ends. */
  private final StringBuilder word = new StringBuilder();

  /** A splitter that holds every object whole. */
  JsonObjectSplitter(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** A splitter that decodes the base64 values of the top-level bytes fields of {@code type}. */
  JsonObjectSplitter(int maxBytes, Descriptor type) {
    this(maxBytes);
    for (FieldDescriptor f : type.getFields()) {
      if (f.getType() == FieldDescriptor.Type.BYTES && !f.isRepeated()) {
        bulkFields.add(new BulkField(f.getName().getBytes(StandardCharsets.UTF_8), f));
        if (!f.getJsonName().equals(f.getName())) {
          bulkFields.add(new BulkField(f.getJsonName().getBytes(StandardCharsets.UTF_8), f));
        }
      }
    }
  }

  /** Feeds {@code data} and hands each object it completes to {@code sink}. */
  void feed(byte[] data, int off, int n, Sink sink) {
    int end = off + n;
    for (int i = off; i < end; i++) {
      if (bulk != null) {
        i = feedBulk(data, i, end);
        if (i == end) {
          break;
        }
      }
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
        int to = i + 1;
        while (to < end && data[to] != '"' && data[to] != '\\') {
          to++;
        }
        append(data, i, to - i);
        i = to - 1;
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
        if (stringIsValue && !keyHasEscape) {
          startBulk();
        }
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
          skipped = 0;
          expectValue = false;
          try {
            sink.accept(buf, n0, values);
          } finally {
            values.clear();
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
      keyHasEscape = stringHasEscape;
      return;
    }
    expectValue = false;
  }

  private void startBulk() {
    for (BulkField f : bulkFields) {
      if (Arrays.equals(buf, keyFrom, keyTo, f.key(), 0, f.key().length)) {
        bulk = f.field();
        decoder.start(lastBulkBytes);
        return;
      }
    }
  }

  /**
   * Decodes the value of {@link #bulk} from {@code data[i, end)}; returns the index of the first
   * character it did not take, or {@code end}. At the closing quote the value is kept; at any
   * other character (an escape, or junk) the text so far goes back into the held object, so that
   * the ordinary mapping judges the whole value.
   */
  private int feedBulk(byte[] data, int i, int end) {
    int stop = decoder.feed(data, i, end);
    skipped += stop - i;
    if (len + skipped > maxBytes) {
      throw tooLong();
    }
    if (stop == end) {
      return stop;
    }
    try {
      if (data[stop] == '"') {
        ByteString value = decoder.finish();
        lastBulkBytes = value.size();
        values.add(new BulkValue(bulk, value));
      } else {
        byte[] text = decoder.textSoFar();
        skipped -= text.length;
        append(text, 0, text.length);
      }
    } catch (IllegalArgumentException e) {
      throw GatewayError.invalid(
          "message " + (objects + 1) + " of the body, field " + bulk.getJsonName()
              + " is not base64: " + e.getMessage());
    } finally {
      bulk = null;
    }
    return stop;
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
          "the body ends inside JSON message " + (objects + 1) + " (" + (len + skipped)
              + " bytes of it)");
    }
  }

  /** Objects completed so far. */
  long objects() {
    return objects;
  }

  private void append(byte[] data, int from, int n) {
    if (len + skipped + n > maxBytes) {
      throw tooLong();
    }
    if (len + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.min(maxBytes, Math.max(len + n, buf.length * 2)));
    }
    System.arraycopy(data, from, buf, len, n);
    len += n;
  }

  private GatewayError tooLong() {
    return new GatewayError(
        Status.RESOURCE_EXHAUSTED.withDescription(
            "JSON message " + (objects + 1) + " of the body is longer than " + maxBytes
                + " bytes (the gateway's maximum message size)"),
        HttpStatus.REQUEST_ENTITY_TOO_LARGE);
  }
}
