package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpHeadersBuilder;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How the outcome of one gRPC call looks to the HTTP client that asked for it, as grpc-gateway
 * shows it: the message as JSON, the status as {@code google.rpc.Status} JSON, response metadata
 * as {@code Grpc-Metadata-*} headers and, when the client accepts trailers ({@code TE:
 * trailers}), trailing metadata as {@code Grpc-Trailer-*} trailers. Streams are
 * {@code application/json} unless the client accepts {@code application/x-ndjson} and not
 * {@code application/json}.
 */
final class Replies {

  static final MediaType NDJSON = MediaType.parse("application/x-ndjson");

  private static final String HEADER_PREFIX = "grpc-metadata-";
  private static final String TRAILER_PREFIX = "grpc-trailer-";

  /** The words grpc-java's client uses for a deadline it enforced itself. */
  private static final Pattern CLIENT_DEADLINE_WORDS =
      Pattern.compile("(?i)^(deadline exceeded|clientcall started after|context timed out|callOptions deadline)");

  private final JsonMessages json;
  private final MediaType streamType;
  private final boolean acceptsTrailers;
  private final Optional<String> deadline;

  /**
   * @param deadline what set the call's deadline, in the client's terms ({@code Grpc-Timeout:
   *     5S}), when it has one
   */
  Replies(RequestHeaders request, JsonMessages json, Optional<String> deadline) {
    this.json = json;
    this.streamType = wantsNdjson(request.get(HttpHeaderNames.ACCEPT)) ? NDJSON : MediaType.JSON;
    String te = request.get(HttpHeaderNames.TE);
    this.acceptsTrailers = te != null && te.toLowerCase(Locale.ROOT).contains("trailers");
    this.deadline = deadline;
  }

  private static boolean wantsNdjson(String accept) {
    if (accept == null) {
      return false;
    }
    String a = accept.toLowerCase(Locale.ROOT);
    // A client that names both (or neither) gets grpc-gateway's application/json.
    return a.contains("application/x-ndjson") && !a.contains("application/json");
  }

  /** The JSON printer of responses. */
  JsonMessages json() {
    return json;
  }

  /** The 200 answer carrying {@code m}. */
  HttpResponse message(Message m, Metadata headers, Metadata trailers) {
    ResponseHeadersBuilder h =
        ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON_UTF_8);
    return withMetadata(h, headers, trailers, HttpData.ofUtf8(json.print(m)));
  }

  /** The answer of a failed unary call. */
  HttpResponse failure(Status status, Metadata headers, Metadata trailers) {
    Status s = inClientTerms(status);
    ResponseHeadersBuilder h =
        ResponseHeaders.builder(HttpStatuses.of(s.getCode()))
            .contentType(MediaType.JSON_UTF_8)
            .add(HttpHeaderNames.of("grpc-status"), Integer.toString(s.getCode().value()));
    return withMetadata(h, headers, trailers, HttpData.ofUtf8(GatewayError.json(s)));
  }

  private HttpResponse withMetadata(
      ResponseHeadersBuilder h, Metadata headers, Metadata trailers, HttpData body) {
    addMetadata(h, HEADER_PREFIX, headers);
    if (acceptsTrailers && trailers != null && !trailers.keys().isEmpty()) {
      HttpHeadersBuilder t = HttpHeaders.builder();
      addMetadata(t, TRAILER_PREFIX, trailers);
      t.names().forEach(n -> h.add(HttpHeaderNames.TRAILER, n.toString()));
      return HttpResponse.of(h.build(), body, t.build());
    }
    return HttpResponse.of(h.build(), body);
  }

  /** The headers of a stream: {@code status} (200 unless it failed before its first message). */
  ResponseHeaders streamHeaders(Status status, Metadata headers) {
    ResponseHeadersBuilder h =
        ResponseHeaders.builder(status.isOk() ? HttpStatus.OK : HttpStatuses.of(status.getCode()))
            .contentType(streamType);
    if (!status.isOk()) {
      h.add(HttpHeaderNames.of("grpc-status"), Integer.toString(status.getCode().value()));
    }
    addMetadata(h, HEADER_PREFIX, headers);
    return h.build();
  }

  /** One line of a stream: {@code {"result":{...}}} and a newline. */
  byte[] resultLine(Message m) {
    return BulkBytesJson.resultLine(m, json);
  }

  /** The line a failed stream ends with: {@code {"error":{...}}} and a newline. */
  HttpData errorLine(Status status) {
    return HttpData.ofUtf8(GatewayError.streamLine(inClientTerms(status)));
  }

  /**
   * {@code status}, with a deadline that the gateway's own client enforced described by what set
   * it rather than in the gRPC library's words.
   */
  Status inClientTerms(Status status) {
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED
        && deadline.isPresent()
        && (status.getDescription() == null
            || CLIENT_DEADLINE_WORDS.matcher(status.getDescription()).find())) {
      return Status.DEADLINE_EXCEEDED.withDescription(
          "the call did not finish within its deadline (" + deadline.get() + ")");
    }
    return status;
  }

  /**
   * Adds each key of {@code md} as {@code prefix + key}; binary values ({@code -bin} keys) as
   * base64, as they travel in gRPC. Keys gRPC itself uses ({@code grpc-*}, {@code content-type})
   * are not metadata of the service and are left out.
   */
  private static void addMetadata(HttpHeadersBuilder out, String prefix, Metadata md) {
    if (md == null) {
      return;
    }
    for (String key : md.keys()) {
      if (key.startsWith("grpc-") || key.equals("content-type") || key.equals("te")) {
        continue;
      }
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        Iterable<byte[]> values = md.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
        if (values != null) {
          for (byte[] v : values) {
            out.add(prefix + key, Base64.getEncoder().withoutPadding().encodeToString(v));
          }
        }
      } else {
        Iterable<String> values = md.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        if (values != null) {
          for (String v : values) {
            out.add(prefix + key, v);
          }
        }
      }
    }
  }
}
