package dev.bytestreams3.service.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Builds a request message from an HTTP request as grpc-gateway does: query parameters first, then
 * the body, then path variables, each overriding the one before, so a path variable wins.
 */
final class RequestBinder {

  private final JsonFormat.Parser parser;
  private final boolean ignoreUnknownFields;

  RequestBinder(boolean ignoreUnknownFields) {
    this.ignoreUnknownFields = ignoreUnknownFields;
    JsonFormat.Parser p = JsonFormat.parser();
    this.parser = ignoreUnknownFields ? p.ignoringUnknownFields() : p;
  }

  /** Parses one JSON message into {@code builder}; a bad message is INVALID_ARGUMENT. */
  void mergeJson(String json, Message.Builder builder, String what) {
    try {
      parser.merge(json, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw GatewayError.invalid(what + " is not a valid " + builder.getDescriptorForType().getFullName()
          + ": " + reason(e));
    }
  }

  /**
   * What the JSON parser found wrong, without the names of the library's exception classes that
   * its messages carry ({@code com.google.common.io.BaseEncoding$DecodingException: ...}).
   */
  private static String reason(Exception e) {
    Throwable deepest = e;
    while (deepest.getCause() != null && deepest.getCause() != deepest) {
      deepest = deepest.getCause();
    }
    String m = deepest.getMessage() != null ? deepest.getMessage() : e.getMessage();
    if (m == null) {
      return "it cannot be parsed";
    }
    String plain = CLASS_NAME.matcher(m).replaceAll("");
    if (deepest.getClass().getName().endsWith("DecodingException")) {
      return "a bytes field is not base64: " + plain;
    }
    return plain;
  }

  /** A qualified name of an exception class and its colon, as exception messages start. */
  private static final java.util.regex.Pattern CLASS_NAME =
      java.util.regex.Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b: ?");

  Message bind(
      Message prototype,
      RouteRule rule,
      Map<String, String> pathVariables,
      Map<String, List<String>> query,
      String body) {
    Message.Builder b = prototype.newBuilderForType();
    if (!rule.body().equals("*")) {
      rejectRepeatedScalars(b.getDescriptorForType(), query, rule.body());
      for (Map.Entry<String, List<String>> q : query.entrySet()) {
        if (q.getKey().equals(rule.body())) {
          continue;
        }
        for (String v : q.getValue()) {
          set(b, q.getKey(), v, "query parameter");
        }
      }
    }
    if (rule.hasBody() && !body.isBlank()) {
      if (rule.body().equals("*")) {
        mergeJson(body, b, "the request body");
      } else {
        FieldDescriptor f = b.getDescriptorForType().findFieldByName(rule.body());
        if (f == null || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || f.isRepeated()) {
          throw new IllegalStateException("rule body '" + rule.body() + "' is not a message field");
        }
        mergeJson(body, b.getFieldBuilder(f), "the request body");
      }
    }
    for (Map.Entry<String, String> v : pathVariables.entrySet()) {
      set(b, v.getKey(), v.getValue(), "path variable");
    }
    return b.build();
  }

  private void set(Message.Builder root, String fieldPath, String value, String what) {
    Message.Builder b = root;
    String[] parts = fieldPath.split("\\.");
    for (int i = 0; i < parts.length; i++) {
      FieldDescriptor f = field(b.getDescriptorForType(), parts[i]);
      if (f == null) {
        if (ignoreUnknownFields) {
          return;
        }
        throw GatewayError.invalid(
            what + " '" + fieldPath + "' names no field of " + root.getDescriptorForType().getFullName());
      }
      if (i < parts.length - 1) {
        if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || f.isRepeated()) {
          throw GatewayError.invalid(what + " '" + fieldPath + "': '" + parts[i] + "' is not a message field");
        }
        b = b.getFieldBuilder(f);
      } else {
        Object v = scalar(f, value, what + " " + fieldPath);
        if (f.isRepeated()) {
          b.addRepeatedField(f, v);
        } else {
          b.setField(f, v);
        }
      }
    }
  }

  /**
   * A field that is not repeated takes one value: given twice, under one spelling or two
   * ({@code read_offset} and {@code readOffset}), it is INVALID_ARGUMENT, as in grpc-gateway.
   */
  private static void rejectRepeatedScalars(
      Descriptor type, Map<String, List<String>> query, String bodyField) {
    Map<FieldDescriptor, List<String>> values = new java.util.LinkedHashMap<>();
    Map<FieldDescriptor, String> firstName = new java.util.HashMap<>();
    for (Map.Entry<String, List<String>> q : query.entrySet()) {
      FieldDescriptor f = q.getKey().equals(bodyField) ? null : fieldAt(type, q.getKey());
      if (f == null || f.isRepeated()) {
        continue;
      }
      firstName.putIfAbsent(f, q.getKey());
      List<String> all = values.computeIfAbsent(f, x -> new java.util.ArrayList<>());
      all.addAll(q.getValue());
      if (all.size() > 1) {
        throw GatewayError.invalid(
            "query parameter " + firstName.get(f) + " is given " + all.size() + " times ("
                + String.join(", ", all) + "); it takes one value");
      }
    }
  }

  /** The field a dotted path names, or null when it names none. */
  private static FieldDescriptor fieldAt(Descriptor root, String fieldPath) {
    Descriptor d = root;
    FieldDescriptor f = null;
    for (String part : fieldPath.split("\\.")) {
      if (d == null) {
        return null;
      }
      f = field(d, part);
      if (f == null) {
        return null;
      }
      d = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? f.getMessageType() : null;
    }
    return f;
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

  private static Object scalar(FieldDescriptor f, String v, String what) {
    try {
      return switch (f.getJavaType()) {
        case STRING -> v;
        case LONG -> Long.parseLong(v);
        case INT -> Integer.parseInt(v);
        case DOUBLE -> Double.parseDouble(v);
        case FLOAT -> Float.parseFloat(v);
        case BOOLEAN -> {
          if (!v.equals("true") && !v.equals("false")) {
            throw GatewayError.invalid(what + ": '" + v + "' (expected: true or false)");
          }
          yield Boolean.parseBoolean(v);
        }
        case BYTE_STRING -> ByteString.copyFrom(decodeBase64(v));
        case ENUM -> {
          EnumValueDescriptor e = f.getEnumType().findValueByName(v);
          if (e == null) {
            e = f.getEnumType().findValueByNumber(Integer.parseInt(v));
          }
          if (e == null) {
            throw GatewayError.invalid(what + ": '" + v + "' is not a " + f.getEnumType().getName());
          }
          yield e;
        }
        case MESSAGE -> throw GatewayError.invalid(what + " is a message and cannot be set from text");
      };
    } catch (NumberFormatException e) {
      throw GatewayError.invalid(what + ": '" + v + "' is not a number");
    }
  }

  private static byte[] decodeBase64(String v) {
    try {
      return Base64.getDecoder().decode(v);
    } catch (IllegalArgumentException e) {
      return Base64.getUrlDecoder().decode(v);
    }
  }
}
