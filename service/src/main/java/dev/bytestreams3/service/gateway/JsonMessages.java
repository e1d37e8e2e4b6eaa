package dev.bytestreams3.service.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;

/** Prints response messages in the proto3 JSON mapping (int64 as strings, bytes as base64). */
final class JsonMessages {

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private JsonMessages() {}

  static String print(MessageOrBuilder m) {
    try {
      return PRINTER.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new GatewayError(
          Status.INTERNAL.withDescription("cannot print " + m.getClass().getSimpleName() + ": " + e));
    }
  }
}
