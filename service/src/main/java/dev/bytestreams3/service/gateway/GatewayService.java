package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Matches a request to an HTTP rule and hands it to the exchange for the method's kind. */
final class GatewayService implements HttpService {

  private final Channel channel;
  private final List<HttpRules.BoundRoute> routes;
  private final GatewaySettings settings;
  private final RequestBinder binder;

  GatewayService(Channel channel, List<HttpRules.BoundRoute> routes, GatewaySettings settings) {
    this.channel = channel;
    this.routes = List.copyOf(routes);
    this.settings = settings;
    this.binder = new RequestBinder(settings.ignoreUnknownFields());
  }

  int routeCount() {
    return routes.size();
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    try {
      return dispatch(ctx, req);
    } catch (GatewayError e) {
      return e.toResponse();
    }
  }

  private HttpResponse dispatch(ServiceRequestContext ctx, HttpRequest req) {
    String path = ctx.rawPath();
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    String method = req.method().name();
    Set<String> allowed = new LinkedHashSet<>();
    for (HttpRules.BoundRoute r : routes) {
      Optional<Map<String, String>> vars = r.rule().template().match(path);
      if (vars.isEmpty()) {
        continue;
      }
      if (!r.rule().httpMethod().equals(method)) {
        allowed.add(r.rule().httpMethod());
        continue;
      }
      return call(ctx, req, r, vars.get());
    }
    if (!allowed.isEmpty()) {
      GatewayError e =
          new GatewayError(
              Status.UNIMPLEMENTED.withDescription(
                  "method " + method + " is not allowed on " + path + " (allowed: "
                      + String.join(", ", allowed) + ")"),
              HttpStatus.METHOD_NOT_ALLOWED);
      HttpResponse r = e.toResponse();
      return r.mapHeaders(h -> h.toBuilder().set(HttpHeaderNames.ALLOW, String.join(", ", allowed)).build());
    }
    throw new GatewayError(
        Status.NOT_FOUND.withDescription("no HTTP rule matches " + method + " " + path),
        HttpStatus.NOT_FOUND);
  }

  @SuppressWarnings("unchecked")
  private HttpResponse call(
      ServiceRequestContext ctx, HttpRequest req, HttpRules.BoundRoute route, Map<String, String> vars) {
    MethodDescriptor<Message, Message> md = (MethodDescriptor<Message, Message>) route.method();
    Metadata metadata = CallSetup.metadata(req.headers());
    switch (md.getType()) {
      case CLIENT_STREAMING:
        CallOptions streamOptions = CallSetup.options(req.headers(), java.time.Duration.ZERO);
        return new ClientStreamExchange(
                channel.newCall(md, streamOptions), metadata, prototypeOf(md), binder,
                settings.maxMessageBytes(), ctx)
            .run(req);
      case UNARY:
      case SERVER_STREAMING:
        break;
      default:
        throw new GatewayError(
            Status.UNIMPLEMENTED.withDescription(
                route.rule().selector() + " is a bidirectional stream, which HTTP/JSON cannot carry"),
            HttpStatus.NOT_IMPLEMENTED);
    }
    boolean unary = md.getType() == MethodDescriptor.MethodType.UNARY;
    CallOptions options =
        CallSetup.options(req.headers(), unary ? settings.unaryTimeout() : java.time.Duration.ZERO);
    Map<String, List<String>> query = query(ctx);
    ctx.setMaxRequestLength(settings.maxMessageBytes());
    return HttpResponse.of(
        req.aggregate()
            .handle(
                (agg, err) -> {
                  try {
                    if (err != null) {
                      throw tooLargeOr(err);
                    }
                    Message request = bind(route, md, vars, query, agg);
                    return unary
                        ? new UnaryExchange(channel.newCall(md, options), metadata).run(request)
                        : new ServerStreamExchange(channel.newCall(md, options), metadata)
                            .run(request);
                  } catch (GatewayError e) {
                    return e.toResponse();
                  }
                }));
  }

  private Message bind(
      HttpRules.BoundRoute route,
      MethodDescriptor<Message, Message> md,
      Map<String, String> vars,
      Map<String, List<String>> query,
      AggregatedHttpRequest agg) {
    String body = agg.contentUtf8();
    if (!route.rule().hasBody() && !agg.content().isEmpty()) {
      throw GatewayError.invalid(
          agg.method() + " " + agg.path().replaceFirst("\\?.*", "")
              + " takes no request body (got " + agg.content().length() + " bytes)");
    }
    return binder.bind(prototypeOf(md), route.rule(), vars, query, body);
  }

  private GatewayError tooLargeOr(Throwable err) {
    Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
        ? err.getCause() : err;
    if (c instanceof ContentTooLargeException) {
      return new GatewayError(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "the request body is longer than " + settings.maxMessageBytes()
                  + " bytes (the gateway's maximum message size)"),
          HttpStatus.REQUEST_ENTITY_TOO_LARGE);
    }
    return new GatewayError(
        Status.CANCELLED.withDescription("the request body could not be read: " + c));
  }

  private static Map<String, List<String>> query(ServiceRequestContext ctx) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    String raw = ctx.query();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    QueryParams.fromQueryString(raw)
        .forEach((k, v) -> out.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    return out;
  }

  private static Message prototypeOf(MethodDescriptor<Message, Message> md) {
    return (Message)
        ((MethodDescriptor.PrototypeMarshaller<?>) md.getRequestMarshaller()).getMessagePrototype();
  }

  static ResponseHeaders okJson(MediaType type) {
    return ResponseHeaders.builder(HttpStatus.OK).contentType(type).build();
  }
}
