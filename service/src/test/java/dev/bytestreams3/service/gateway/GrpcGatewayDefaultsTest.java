package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client written for grpc-gateway v2 sees by default, request by request, and what the
 * strict mapping ({@code --http-strict-json}) changes.
 */
class GrpcGatewayDefaultsTest {

  private static final String HELLO = "{\"resourceName\":\"files/h\",\"data\":\"aGVsbG8=\",\"finishWrite\":true}";

  @TempDir Path dir;

  private GatewayHarness h;

  private GatewayHarness start(GatewaySettings settings) throws Exception {
    h = new GatewayHarness(dir, settings, List.of(), List.of(new EchoMetadata()));
    return h;
  }

  @AfterEach
  void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  private void writeHello() throws Exception {
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(HELLO));
    assertThat(w.statusCode()).as(w.body()).isEqualTo(200);
  }

  private static String contentType(HttpResponse<?> r) {
    return r.headers().firstValue("content-type").orElse("(none)");
  }

  @Test
  void unknownFieldsAndQueryParameters_areIgnoredByDefault() throws Exception {
    start(GatewaySettings.defaults());
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write?trace_id=abc",
        BodyPublishers.ofString("{\"resourceName\":\"files/h\",\"colour\":\"red\",\"data\":\"aGVsbG8=\",\"finishWrite\":true}"));
    assertThat(w.statusCode()).isEqualTo(200);
    assertThat(w.body()).isEqualTo("{\"committedSize\":\"5\"}");

    HttpResponse<String> q = h.get("/v1/files/h:queryWriteStatus?cb=1733500000");
    assertThat(q.statusCode()).isEqualTo(200);
    assertThat(q.body()).isEqualTo("{\"committedSize\":\"5\",\"complete\":true}");
  }

  @Test
  void strictJson_rejectsUnknownFieldsAndQueryParameters() throws Exception {
    start(GatewaySettings.defaults().strictJson());
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write",
        BodyPublishers.ofString("{\"resourceName\":\"files/h\",\"colour\":\"red\",\"data\":\"aGVsbG8=\"}"));
    assertThat(w.statusCode()).isEqualTo(400);
    assertThat(w.body()).isEqualTo("{\"code\":3,\"message\":\"message 1 of the body is not a valid"
        + " google.bytestream.WriteRequest: Cannot find field: colour in message google.bytestream.WriteRequest\","
        + "\"details\":[]}");

    HttpResponse<String> q = h.get("/v1/files/h:queryWriteStatus?cb=1733500000");
    assertThat(q.statusCode()).isEqualTo(400);
    assertThat(q.body()).isEqualTo("{\"code\":3,\"message\":\"query parameter 'cb' names no field of"
        + " google.bytestream.QueryWriteStatusRequest\",\"details\":[]}");
  }

  @Test
  void unpopulatedFields_areEmittedByDefault_andLeftOutWhenStrict() throws Exception {
    start(GatewaySettings.defaults());
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write",
        BodyPublishers.ofString("{\"resourceName\":\"files/p\",\"data\":\"aGVsbG8g\"}"));
    assertThat(w.body()).isEqualTo("{\"committedSize\":\"6\"}");
    HttpResponse<String> inProgress = h.get("/v1/files/p:queryWriteStatus");
    assertThat(inProgress.statusCode()).isEqualTo(200);
    assertThat(contentType(inProgress)).isEqualTo("application/json; charset=utf-8");
    assertThat(inProgress.body()).isEqualTo("{\"committedSize\":\"6\",\"complete\":false}");

    String unseen = "/v1/uploads/" + UUID.randomUUID() + "/blobs/" + "a".repeat(64) + "/5:queryWriteStatus";
    HttpResponse<String> nothing = h.get(unseen);
    assertThat(nothing.statusCode()).isEqualTo(200);
    assertThat(nothing.body()).isEqualTo("{\"committedSize\":\"0\",\"complete\":false}");
    h.close();
    h = null;

    start(GatewaySettings.defaults().strictJson());
    assertThat(h.get("/v1/files/p:queryWriteStatus").body()).isEqualTo("{\"committedSize\":\"6\"}");
    assertThat(h.get(unseen).body()).isEqualTo("{}");
  }

  @Test
  void streams_areApplicationJson_andNdjsonWhenTheClientAsks() throws Exception {
    start(GatewaySettings.defaults());
    writeHello();
    HttpResponse<String> json = h.get("/v1/files/h:read");
    assertThat(json.statusCode()).isEqualTo(200);
    assertThat(contentType(json)).isEqualTo("application/json");
    assertThat(json.body()).isEqualTo("{\"result\":{\"data\":\"aGVsbG8=\"}}\n");

    HttpResponse<String> ndjson = h.get("/v1/files/h:read", "Accept", "application/x-ndjson");
    assertThat(ndjson.statusCode()).isEqualTo(200);
    assertThat(contentType(ndjson)).isEqualTo("application/x-ndjson");
    assertThat(ndjson.body()).isEqualTo("{\"result\":{\"data\":\"aGVsbG8=\"}}\n");

    HttpResponse<String> both = h.get("/v1/files/h:read", "Accept", "application/x-ndjson, application/json");
    assertThat(contentType(both)).isEqualTo("application/json");

    HttpResponse<String> missing = h.get("/v1/files/none:read", "Accept", "application/x-ndjson");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(contentType(missing)).isEqualTo("application/x-ndjson");
    assertThat(missing.body()).isEqualTo("{\"error\":{\"code\":5,\"message\":\"'files/none' not found\",\"details\":[]}}\n");
  }

  @Test
  void wrongMethod_is405WithAllow_andAnUnimplementedStatus() throws Exception {
    start(GatewaySettings.defaults());
    HttpResponse<String> r = h.get("/v1/bytestream:write");
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("allow")).hasValue("POST");
    assertThat(r.headers().firstValue("grpc-status")).hasValue("12");
    assertThat(r.body()).isEqualTo("{\"code\":12,\"message\":\"method GET is not allowed on"
        + " /v1/bytestream:write (allowed: POST)\",\"details\":[]}");
  }

  @Test
  void repeatedScalarQueryParameter_isBadRequestNamingIt() throws Exception {
    start(GatewaySettings.defaults());
    writeHello();
    HttpResponse<String> r = h.get("/v1/files/h:read?read_offset=1&read_offset=6");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(contentType(r)).isEqualTo("application/json; charset=utf-8");
    assertThat(r.body()).isEqualTo("{\"code\":3,\"message\":\"query parameter read_offset is given 2 times"
        + " (1, 6); it takes one value\",\"details\":[]}");
    // Spelled two ways, it is still one field given twice.
    HttpResponse<String> camel = h.get("/v1/files/h:read?read_offset=1&readOffset=2");
    assertThat(camel.statusCode()).isEqualTo(400);
    assertThat(camel.body()).isEqualTo("{\"code\":3,\"message\":\"query parameter read_offset is given 2 times"
        + " (1, 2); it takes one value\",\"details\":[]}");
    HttpResponse<String> once = h.get("/v1/files/h:read?read_offset=1");
    assertThat(once.body()).isEqualTo("{\"result\":{\"data\":\"ZWxsbw==\"}}\n");
  }

  @Test
  void formPostAndMethodOverride_reachTheGetRoute() throws Exception {
    start(GatewaySettings.defaults());
    writeHello();
    HttpResponse<String> form = h.send("POST", "/v1/files/h:read", BodyPublishers.ofString("read_offset=2&read_limit=2"),
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(form.statusCode()).as(form.body()).isEqualTo(200);
    assertThat(form.body()).isEqualTo("{\"result\":{\"data\":\"bGw=\"}}\n");

    HttpResponse<String> override = h.send("POST", "/v1/files/h:queryWriteStatus", BodyPublishers.noBody(),
        "X-HTTP-Method-Override", "GET");
    assertThat(override.statusCode()).as(override.body()).isEqualTo(200);
    assertThat(override.body()).isEqualTo("{\"committedSize\":\"5\",\"complete\":true}");

    // Form fields and URL parameters are one set of parameters: a scalar in both is given twice.
    HttpResponse<String> twice = h.send("POST", "/v1/files/h:read?read_offset=1", BodyPublishers.ofString("read_offset=2"),
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(twice.body()).isEqualTo("{\"code\":3,\"message\":\"query parameter read_offset is given 2 times"
        + " (2, 1); it takes one value\",\"details\":[]}");

    // A POST that is neither a form nor overridden is still the wrong method.
    HttpResponse<String> json = h.send("POST", "/v1/files/h:read", BodyPublishers.ofString("{}"),
        "Content-Type", "application/json");
    assertThat(json.statusCode()).isEqualTo(405);
    assertThat(json.headers().firstValue("allow")).hasValue("GET");
  }

  @Test
  void errors_nameWhatTheClientSent_notKeysClassesOrLibraryWords() throws Exception {
    start(GatewaySettings.defaults());
    HttpResponse<String> missing = h.get("/v1/files/x:read");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("{\"error\":{\"code\":5,\"message\":\"'files/x' not found\",\"details\":[]}}\n");

    HttpResponse<String> base64 = h.send("POST", "/v1/bytestream:write",
        BodyPublishers.ofString("{\"resourceName\":\"files/q\",\"data\":\"a&&&\"}"));
    assertThat(base64.statusCode()).isEqualTo(400);
    assertThat(base64.body()).isEqualTo("{\"code\":3,\"message\":\"message 1 of the body is not a valid"
        + " google.bytestream.WriteRequest: a bytes field is not base64: Unrecognized character: &\",\"details\":[]}");

    HttpResponse<String> late = h.get("/v1/files/x:read", "Grpc-Timeout", "1n");
    assertThat(late.statusCode()).isEqualTo(504);
    assertThat(late.body()).isEqualTo("{\"error\":{\"code\":4,\"message\":\"the call did not finish within its"
        + " deadline (Grpc-Timeout: 1n)\",\"details\":[]}}\n");
    HttpResponse<String> lateUnary = h.get("/v1/files/x:queryWriteStatus", "Grpc-Timeout", "1n");
    assertThat(lateUnary.statusCode()).isEqualTo(504);
    assertThat(lateUnary.body()).isEqualTo("{\"code\":4,\"message\":\"the call did not finish within its"
        + " deadline (Grpc-Timeout: 1n)\",\"details\":[]}");

    // Over gRPC, the same words for the same missing object.
    assertThatThrownBy(
            () -> ByteStreamGrpc.newBlockingStub(h.channel)
                .read(ReadRequest.newBuilder().setResourceName("files/x").build())
                .hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("'files/x' not found");
        });
    String blob = "blobs/" + "b".repeat(64) + "/3";
    HttpResponse<String> missingBlob = h.get("/v1/" + blob + ":read");
    assertThat(missingBlob.body()).isEqualTo("{\"error\":{\"code\":5,\"message\":\"'" + blob + "' not found\",\"details\":[]}}\n");
  }

  @Test
  void responseMetadata_isForwardedAsGrpcMetadataHeaders_andTrailersWhenAccepted() throws Exception {
    start(GatewaySettings.defaults());
    writeHello();
    HttpResponse<String> unary = h.get("/v1/files/h:queryWriteStatus", "Grpc-Metadata-X-Echo", "hi");
    assertThat(unary.statusCode()).isEqualTo(200);
    assertThat(unary.headers().allValues("grpc-metadata-x-echo")).containsExactly("hi");
    assertThat(unary.headers().map()).doesNotContainKey("grpc-trailer-x-echo-trailer");

    HttpResponse<String> stream = h.get("/v1/files/h:read", "Grpc-Metadata-X-Echo", "there");
    assertThat(stream.headers().allValues("grpc-metadata-x-echo")).containsExactly("there");
    assertThat(stream.body()).isEqualTo("{\"result\":{\"data\":\"aGVsbG8=\"}}\n");


    // Trailers only for a client that says it takes them, as HTTP asks.
    RawHttp.Answer a = RawHttp.exchange(h.http.port(),
        "GET /v1/files/h:queryWriteStatus HTTP/1.1\r\nHost: 127.0.0.1\r\nTE: trailers\r\n"
            + "Grpc-Metadata-X-Echo: hi\r\nConnection: close\r\n\r\n");
    assertThat(a.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(a.headers()).contains("grpc-metadata-x-echo: hi\r\n")
        .contains("trailer: grpc-trailer-x-echo-trailer\r\n")
        .contains("transfer-encoding: chunked\r\n");
    String body = "{\"committedSize\":\"5\",\"complete\":true}";
    assertThat(a.body()).isEqualTo(Integer.toHexString(body.length()) + "\r\n" + body + "\r\n"
        + "0\r\ngrpc-trailer-x-echo-trailer: hi\r\n\r\n");

    // A call that fails before sending headers has only trailers: they come with the error.
    RawHttp.Answer failed = RawHttp.exchange(h.http.port(),
        "GET /v1/files/none:queryWriteStatus HTTP/1.1\r\nHost: 127.0.0.1\r\nTE: trailers\r\n"
            + "Grpc-Metadata-X-Echo: err\r\nConnection: close\r\n\r\n");
    assertThat(failed.statusLine()).isEqualTo("HTTP/1.1 404 Not Found");
    assertThat(failed.headers()).contains("grpc-status: 5\r\n").contains("trailer: grpc-trailer-x-echo-trailer\r\n");
    String error = "{\"code\":5,\"message\":\"no write to 'files/none' has reached this server\",\"details\":[]}";
    assertThat(failed.body()).isEqualTo(Integer.toHexString(error.length()) + "\r\n" + error + "\r\n"
        + "0\r\ngrpc-trailer-x-echo-trailer: err\r\n\r\n");
  }

  /** Sends the request's {@code x-echo} back as response header {@code x-echo} and trailer {@code x-echo-trailer}. */
  static final class EchoMetadata implements ServerInterceptor {
    private static final Metadata.Key<String> ECHO = Metadata.Key.of("x-echo", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> ECHO_TRAILER =
        Metadata.Key.of("x-echo-trailer", Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      String echo = headers.get(ECHO);
      if (echo == null) {
        return next.startCall(call, headers);
      }
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        public void sendHeaders(Metadata h) {
          h.put(ECHO, echo);
          super.sendHeaders(h);
        }

        @Override
        public void close(Status status, Metadata trailers) {
          trailers.put(ECHO_TRAILER, echo);
          super.close(status, trailers);
        }
      }, headers);
    }
  }
}
