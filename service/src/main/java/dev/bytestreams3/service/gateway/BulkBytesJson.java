package dev.bytestreams3.service.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The proto3 JSON mapping for messages that carry bulk bytes (a ByteStream chunk is mostly one
 * base64 string). Top-level {@code bytes} fields longer than {@link #BULK_CHARS} are cut out of
 * the JSON and coded directly between base64 text and bytes, without the detour through JSON
 * strings; everything else goes through the ordinary JSON mapping, so the result is the same.
 */
final class BulkBytesJson {

  /** Base64 values shorter than this go through the ordinary mapping. */
  static final int BULK_CHARS = JsonObjectSplitter.LONG_STRING_CHARS;

  private static final byte[] RESULT_OPEN = "{\"result\":{".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESULT_CLOSE = "}}\n".getBytes(StandardCharsets.US_ASCII);

  private BulkBytesJson() {}

  private record Cut(FieldDescriptor field, int from, int to) {}

  /**
   * Parses the JSON object in {@code json[0, len)}, whose long top-level strings are
   * {@code longStrings}, into {@code builder}.
   *
   * @throws GatewayError INVALID_ARGUMENT naming {@code what} when it is not a valid message
   */
  static void parse(
      byte[] json,
      int len,
      List<JsonObjectSplitter.LongString> longStrings,
      Message.Builder builder,
      RequestBinder binder,
      String what) {
    List<Cut> cuts = new ArrayList<>(longStrings.size());
    Descriptor type = builder.getDescriptorForType();
    for (JsonObjectSplitter.LongString s : longStrings) {
      FieldDescriptor f =
          field(type, new String(json, s.keyFrom(), s.keyTo() - s.keyFrom(), StandardCharsets.UTF_8));
      if (f != null && !f.isRepeated() && f.getType() == FieldDescriptor.Type.BYTES) {
        cuts.add(new Cut(f, s.from(), s.to()));
      }
    }
    if (cuts.isEmpty()) {
      binder.mergeJson(new String(json, 0, len, StandardCharsets.UTF_8), builder, what);
      return;
    }
    StringBuilder rest = new StringBuilder(256);
    int at = 0;
    for (Cut c : cuts) {
      rest.append(new String(json, at, c.from - at, StandardCharsets.UTF_8));
      at = c.to;
    }
    rest.append(new String(json, at, len - at, StandardCharsets.UTF_8));
    // The bulk values are left as "" so that key checks (unknown, duplicate) still happen.
    binder.mergeJson(rest.toString(), builder, what);
    for (Cut c : cuts) {
      builder.setField(c.field, decode(json, c.from, c.to, what + ", field " + c.field.getJsonName()));
    }
  }

  private static ByteString decode(byte[] json, int from, int to, String what) {
    ByteBuffer text = ByteBuffer.wrap(json, from, to - from);
    try {
      return UnsafeByteOperations.unsafeWrap(Base64.getDecoder().decode(text));
    } catch (IllegalArgumentException e) {
      try {
        return UnsafeByteOperations.unsafeWrap(
            Base64.getUrlDecoder().decode(ByteBuffer.wrap(json, from, to - from)));
      } catch (IllegalArgumentException e2) {
        throw GatewayError.invalid(what + " is not base64: " + e.getMessage());
      }
    }
  }

  private static FieldDescriptor field(Descriptor d, String name) {
    FieldDescriptor f = d.findFieldByName(name);
    if (f != null) {
      return f;
    }
    for (FieldDescriptor g : d.getFields()) {
      if (g.getJsonName().equals(name)) {
        return g;
      }
    }
    return null;
  }

  /** One line of a server stream: {@code {"result":{...}}} and a newline, as bytes. */
  static byte[] resultLine(Message m) {
    List<FieldDescriptor> bulk = new ArrayList<>(1);
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.getType() == FieldDescriptor.Type.BYTES && !f.isRepeated() && m.hasField(f)
          && ((ByteString) m.getField(f)).size() * 4 / 3 >= BULK_CHARS) {
        bulk.add(f);
      }
    }
    if (bulk.isEmpty()) {
      return ("{\"result\":" + JsonMessages.print(m) + "}\n").getBytes(StandardCharsets.UTF_8);
    }
    Message.Builder rest = m.toBuilder();
    List<byte[]> parts = new ArrayList<>();
    int size = RESULT_OPEN.length + RESULT_CLOSE.length;
    for (FieldDescriptor f : bulk) {
      rest.clearField(f);
      byte[] head = ("\"" + f.getJsonName() + "\":\"").getBytes(StandardCharsets.US_ASCII);
      byte[] value = Base64.getEncoder().encode(((ByteString) m.getField(f)).asReadOnlyByteBuffer()).array();
      parts.add(head);
      parts.add(value);
      parts.add(new byte[] {'"', ','});
      size += head.length + value.length + 2;
    }
    String others = JsonMessages.print(rest);
    byte[] tail = others.substring(1, others.length() - 1).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[size + tail.length - (tail.length == 0 ? 1 : 0)];
    int at = 0;
    System.arraycopy(RESULT_OPEN, 0, out, at, RESULT_OPEN.length);
    at += RESULT_OPEN.length;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    if (tail.length == 0) {
      at--; // no other fields: drop the last comma
    }
    System.arraycopy(tail, 0, out, at, tail.length);
    at += tail.length;
    System.arraycopy(RESULT_CLOSE, 0, out, at, RESULT_CLOSE.length);
    return out;
  }
}
