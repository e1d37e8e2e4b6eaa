package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.http.HttpRoutes;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.service.resource.ResourceNameParser;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.stub.MetadataUtils;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Raw bytes over HTTP under {@code /raw/{resource_name}}, through the same ByteStream service:
 *
 * <ul>
 *   <li>{@code GET}, with an optional single {@code Range}: 200 or 206 with {@code Content-Range}
 *       and the bytes, 416 past the end.
 *   <li>{@code HEAD}: the size of a stored blob or object in {@code Content-Length}; for uploads
 *       and objects also {@code X-Committed-Size} and {@code X-Complete}, where a resumed upload
 *       continues.
 *   <li>{@code PUT} or {@code POST} of raw bytes, with {@code ?offset=N} to resume at the
 *       committed size; the bytes are streamed into a {@code Write}, and an upload to a
 *       content-addressed upload name is verified like any other.
 * </ul>
 */
public final class RawRoutes implements HttpRoutes {

  static final String PREFIX = "/raw/";
  static final String COMMITTED_SIZE = "x-committed-size";
  static final String COMPLETE = "x-complete";

  private final Channel channel;
  private final ResourceNameParser names;

  public RawRoutes(Channel channel, DigestFunctions digestFunctions) {
    this.channel = requireNonNull(channel, "channel");
    this.names = new ResourceNameParser(requireNonNull(digestFunctions, "digestFunctions"));
  }

  @Override
  public void addTo(ServerBuilder server) {
    server.serviceUnder(PREFIX, this::serve);
  }

  private HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    try {
      String resource = resourceOf(ctx.rawPath());
      HttpMethod m = req.method();
      // The calls carry the request's Authorization (and Grpc-Metadata-*) like gateway calls do.
      Channel channel =
          ClientInterceptors.intercept(
              this.channel, MetadataUtils.newAttachHeadersInterceptor(CallSetup.metadata(req.headers())));
      if (m == HttpMethod.PUT || m == HttpMethod.POST) {
        long offset = offsetOf(ctx.queryParam("offset"));
        return new RawUpload(channel, resource, offset, ctx).run(req);
      }
      if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
        return methodNotAllowed(m);
      }
      ResourceName name;
      try {
        name = names.parse(resource);
      } catch (IllegalArgumentException e) {
        throw new GatewayError(GrpcStatuses.of(e));
      }
      if (req.headers().contentLength() > 0) {
        throw GatewayError.invalid(m + " takes no request body");
      }
      return new RawDownload(channel, resource, name, req.headers(), m == HttpMethod.HEAD, ctx)
          .run();
    } catch (GatewayError e) {
      return e.toResponse();
    }
  }

  private static HttpResponse methodNotAllowed(HttpMethod m) {
    HttpResponse r =
        new GatewayError(
                Status.UNIMPLEMENTED.withDescription(
                    "method " + m + " is not allowed on raw routes (allowed: GET, HEAD, PUT, POST)"),
                HttpStatus.METHOD_NOT_ALLOWED)
            .toResponse();
    return r.mapHeaders(h -> h.toBuilder().set(HttpHeaderNames.ALLOW, "GET, HEAD, PUT, POST").build());
  }

  private static String resourceOf(String rawPath) {
    int q = rawPath.indexOf('?');
    String p = (q >= 0 ? rawPath.substring(0, q) : rawPath).substring(PREFIX.length());
    StringBuilder b = new StringBuilder();
    for (String segment : p.split("/", -1)) {
      if (b.length() > 0) {
        b.append('/');
      }
      b.append(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
    }
    if (b.length() == 0) {
      throw GatewayError.invalid("no resource name after " + PREFIX);
    }
    return b.toString();
  }

  private static long offsetOf(String param) {
    if (param == null || param.isEmpty()) {
      return 0;
    }
    try {
      long n = Long.parseLong(param);
      if (n < 0) {
        throw GatewayError.invalid("offset " + n + " is negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw GatewayError.invalid("offset '" + param + "' is not a number");
    }
  }

  /** Asks the service how far the upload or object {@code resource} has come. */
  static CompletableFuture<QueryWriteStatusResponse> queryWriteStatus(
      Channel channel, String resource, Executor executor) {
    CompletableFuture<QueryWriteStatusResponse> f = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(
        channel.newCall(ByteStreamGrpc.getQueryWriteStatusMethod(), io.grpc.CallOptions.DEFAULT),
        QueryWriteStatusRequest.newBuilder().setResourceName(resource).build(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(QueryWriteStatusResponse r) {
            f.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            f.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return f.thenApplyAsync(r -> r, executor);
  }

  static ResponseHeadersBuilder statusHeaders(ResponseHeadersBuilder b, QueryWriteStatusResponse s) {
    return b.set(COMMITTED_SIZE, Long.toString(s.getCommittedSize()))
        .set(COMPLETE, Boolean.toString(s.getComplete()));
  }
}
