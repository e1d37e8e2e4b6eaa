package dev.bytestreams3.service.gateway;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import java.util.HashSet;
import java.util.Set;

/**
 * Prints response messages in the proto3 JSON mapping (int64 as strings, bytes as base64), with
 * every field (as grpc-gateway v2 does) or with default values left out.
 */
final class JsonMessages {

  /** Default values left out: the proto3 JSON mapping's own default. */
  static final JsonMessages OMITTING_DEFAULTS = new JsonMessages(false);

  private final boolean emitUnpopulated;
  private final JsonFormat.Printer printer;

  JsonMessages(boolean emitUnpopulated) {
    this.emitUnpopulated = emitUnpopulated;
    JsonFormat.Printer p = JsonFormat.printer().omittingInsignificantWhitespace();
    this.printer = emitUnpopulated ? p.includingDefaultValueFields() : p;
  }

  String print(MessageOrBuilder m) {
    return print(printer, m);
  }

  /** Prints {@code m} without the fields in {@code left}, which it must not have set. */
  String printWithout(Message m, Set<FieldDescriptor> left) {
    if (!emitUnpopulated) {
      return print(m);
    }
    Set<FieldDescriptor> shown = new HashSet<>(m.getDescriptorForType().getFields());
    shown.removeAll(left);
    if (shown.isEmpty()) {
      return print(OMITTING_DEFAULTS.printer, m);
    }
    return print(
        JsonFormat.printer().omittingInsignificantWhitespace().includingDefaultValueFields(shown), m);
  }

  private static String print(JsonFormat.Printer printer, MessageOrBuilder m) {
    try {
      return printer.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new GatewayError(
          Status.INTERNAL.withDescription(
              "cannot print a " + m.getDescriptorForType().getFullName() + " as JSON: " + e.getMessage()));
    }
  }
}
