package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import io.grpc.Status;

/**
 * A failure as the HTTP client sees it: a {@code google.rpc.Status} JSON body and an HTTP status,
 * by default the one {@link HttpStatuses} maps the gRPC code to.
 */
final class GatewayError extends RuntimeException {

  private final Status status;
  private final HttpStatus httpStatus;

  GatewayError(Status status) {
    this(status, HttpStatuses.of(status.getCode()));
  }

  GatewayError(Status status, HttpStatus httpStatus) {
    super(status.getDescription(), null, false, false);
    this.status = requireNonNull(status, "status");
    this.httpStatus = requireNonNull(httpStatus, "httpStatus");
  }

  static GatewayError invalid(String message) {
    return new GatewayError(Status.INVALID_ARGUMENT.withDescription(message));
  }

  Status status() {
    return status;
  }

  HttpStatus httpStatus() {
    return httpStatus;
  }

  /** The {@code google.rpc.Status} JSON of {@code status}. */
  static String json(Status status) {
    JsonObject o = new JsonObject();
    o.addProperty("code", status.getCode().value());
    o.addProperty(
        "message",
        status.getDescription() == null ? status.getCode().name() : status.getDescription());
    o.add("details", new JsonArray());
    return o.toString();
  }

  /** The line a stream ends with when it fails: {@code {"error":{...}}}. */
  static String streamLine(Status status) {
    return "{\"error\":" + json(status) + "}\n";
  }

  /** The whole response of a failed unary exchange. */
  HttpResponse toResponse() {
    return HttpResponse.of(
        ResponseHeaders.builder(httpStatus)
            .contentType(MediaType.JSON_UTF_8)
            .add(HttpHeaderNames.of("grpc-status"), Integer.toString(status.getCode().value()))
            .build(),
        com.linecorp.armeria.common.HttpData.ofUtf8(json(status)));
  }
}
