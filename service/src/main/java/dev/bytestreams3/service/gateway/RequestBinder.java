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
          + ": " + e.getMessage());
    }
  }

  Message bind(
      Message prototype,
      RouteRule rule,
      Map<String, String> pathVariables,
      Map<String, List<String>> query,
      String body) {
    Message.Builder b = prototype.newBuilderForType();
    if (!rule.body().equals("*")) {
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
