package dev.bytestreams3.service.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The proto3 JSON mapping for messages that carry bulk bytes (a ByteStream chunk is mostly one
 * base64 string). Base64 values of top-level {@code bytes} fields are coded directly between text
 * and bytes, without the detour through JSON strings; everything else goes through the ordinary
 * JSON mapping, so the result is the same.
 */
final class BulkBytesJson {

  /** Values whose base64 text is shorter than this are printed by the ordinary mapping. */
  static final int BULK_CHARS = 4096;

  private static final byte[] RESULT_OPEN = "{\"result\":{".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESULT_CLOSE = "}}\n".getBytes(StandardCharsets.US_ASCII);

  private BulkBytesJson() {}

  /**
   * Parses the JSON object in {@code json[0, len)} into {@code builder}, with the bulk values the
   * splitter decoded out of it ({@code ""} holds their places in the JSON).
   *
   * @throws GatewayError INVALID_ARGUMENT naming {@code what} when it is not a valid message
   */
  static void parse(
      byte[] json,
      int len,
      List<JsonObjectSplitter.BulkValue> values,
      Message.Builder builder,
      RequestBinder binder,
      String what) {
    binder.mergeJson(new String(json, 0, len, StandardCharsets.UTF_8), builder, what);
    for (JsonObjectSplitter.BulkValue v : values) {
      builder.setField(v.field(), v.value());
    }
  }

  /** One line of a server stream: {@code {"result":{...}}} and a newline, as bytes. */
  static byte[] resultLine(Message m, JsonMessages json) {
    List<FieldDescriptor> bulk = new ArrayList<>(1);
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.getType() == FieldDescriptor.Type.BYTES && !f.isRepeated() && m.hasField(f)
          && ((ByteString) m.getField(f)).size() * 4 / 3 >= BULK_CHARS) {
        bulk.add(f);
      }
    }
    if (bulk.isEmpty()) {
      return ("{\"result\":" + json.print(m) + "}\n").getBytes(StandardCharsets.UTF_8);
    }
    Message.Builder rest = m.toBuilder();
    List<byte[]> heads = new ArrayList<>(bulk.size());
    int size = RESULT_OPEN.length + RESULT_CLOSE.length;
    for (FieldDescriptor f : bulk) {
      rest.clearField(f);
      byte[] head = ("\"" + f.getJsonName() + "\":\"").getBytes(StandardCharsets.US_ASCII);
      heads.add(head);
      size += head.length + Base64Coding.encodedLength(((ByteString) m.getField(f)).size()) + 2;
    }
    String others = json.printWithout(rest.build(), java.util.Set.copyOf(bulk));
    byte[] tail = others.substring(1, others.length() - 1).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[size + tail.length - (tail.length == 0 ? 1 : 0)];
    System.arraycopy(RESULT_OPEN, 0, out, 0, RESULT_OPEN.length);
    int at = RESULT_OPEN.length;
    for (int k = 0; k < bulk.size(); k++) {
      byte[] head = heads.get(k);
      System.arraycopy(head, 0, out, at, head.length);
      at = Base64Coding.encode((ByteString) m.getField(bulk.get(k)), out, at + head.length);
      out[at++] = '"';
      out[at++] = ',';
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
