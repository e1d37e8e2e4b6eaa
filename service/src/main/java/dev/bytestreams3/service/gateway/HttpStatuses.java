package dev.bytestreams3.service.gateway;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;

/** The HTTP status of each gRPC status code, as grpc-gateway maps them. */
final class HttpStatuses {

  private HttpStatuses() {}

  static HttpStatus of(Status.Code code) {
    return switch (code) {
      case OK -> HttpStatus.OK;
      case CANCELLED -> HttpStatus.valueOf(499);
      case UNKNOWN, INTERNAL, DATA_LOSS -> HttpStatus.INTERNAL_SERVER_ERROR;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> HttpStatus.BAD_REQUEST;
      case DEADLINE_EXCEEDED -> HttpStatus.GATEWAY_TIMEOUT;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case ALREADY_EXISTS, ABORTED -> HttpStatus.CONFLICT;
      case PERMISSION_DENIED -> HttpStatus.FORBIDDEN;
      case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
      case RESOURCE_EXHAUSTED -> HttpStatus.TOO_MANY_REQUESTS;
      case UNIMPLEMENTED -> HttpStatus.NOT_IMPLEMENTED;
      case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
    };
  }
}
