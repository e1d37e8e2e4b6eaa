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
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Matches a request to an HTTP rule and hands it to the exchange for the method's kind. */
final class GatewayService implements HttpService {

  private static final String METHOD_OVERRIDE = "x-http-method-override";

  private final Channel channel;
  private final List<HttpRules.BoundRoute> routes;
  private final GatewaySettings settings;
  private final RequestBinder binder;
  private final JsonMessages json;

  GatewayService(Channel channel, List<HttpRules.BoundRoute> routes, GatewaySettings settings) {
    this.channel = channel;
    this.routes = List.copyOf(routes);
    this.settings = settings;
    this.binder = new RequestBinder(settings.ignoreUnknownFields());
    this.json = new JsonMessages(settings.emitUnpopulated());
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
    // grpc-gateway's answer to URLs too long for a proxy: a form-encoded POST is a GET whose
    // query is the body, when no POST rule takes the path; X-HTTP-Method-Override on a POST
    // names the method, and its body is read as a form too.
    String override = req.headers().get(METHOD_OVERRIDE);
    boolean overridden = method.equals("POST") && override != null && !override.isBlank();
    boolean form = overridden || method.equals("POST") && isForm(req.headers().contentType());
    if (overridden) {
      method = override.trim().toUpperCase(Locale.ROOT);
    }
    Set<String> allowed = new LinkedHashSet<>();
    HttpRules.BoundRoute getRoute = null;
    Map<String, String> getVars = null;
    for (HttpRules.BoundRoute r : routes) {
      Optional<Map<String, String>> vars = r.rule().template().match(path);
      if (vars.isEmpty()) {
        continue;
      }
      if (!r.rule().httpMethod().equals(method)) {
        allowed.add(r.rule().httpMethod());
        if (getRoute == null && r.rule().httpMethod().equals("GET")) {
          getRoute = r;
          getVars = vars.get();
        }
        continue;
      }
      return call(ctx, req, r, vars.get(), form && !r.rule().hasBody());
    }
    if (form && getRoute != null) {
      return call(ctx, req, getRoute, getVars, true);
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

  private static boolean isForm(MediaType type) {
    return type != null && type.is(MediaType.FORM_DATA);
  }

  @SuppressWarnings("unchecked")
  private HttpResponse call(
      ServiceRequestContext ctx,
      HttpRequest req,
      HttpRules.BoundRoute route,
      Map<String, String> vars,
      boolean formQuery) {
    MethodDescriptor<Message, Message> md = (MethodDescriptor<Message, Message>) route.method();
    Metadata metadata = CallSetup.metadata(req.headers());
    switch (md.getType()) {
      case CLIENT_STREAMING:
        CallOptions streamOptions = CallSetup.options(req.headers(), Duration.ZERO);
        return new ClientStreamExchange(
                channel.newCall(md, streamOptions), metadata, prototypeOf(md), binder,
                replies(req, Duration.ZERO), settings.maxMessageBytes(), ctx)
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
    Duration defaultTimeout = unary ? settings.unaryTimeout() : Duration.ZERO;
    CallOptions options = CallSetup.options(req.headers(), defaultTimeout);
    Replies replies = replies(req, defaultTimeout);
    Map<String, List<String>> urlQuery = query(ctx.query());
    ctx.setMaxRequestLength(settings.maxMessageBytes());
    return HttpResponse.of(
        req.aggregate()
            .handle(
                (agg, err) -> {
                  try {
                    if (err != null) {
                      throw tooLargeOr(err);
                    }
                    Map<String, List<String>> query = urlQuery;
                    if (formQuery) {
                      // The form's fields come first, then the URL's, as grpc-gateway reads them.
                      query = query(agg.contentUtf8());
                      for (Map.Entry<String, List<String>> e : urlQuery.entrySet()) {
                        query.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).addAll(e.getValue());
                      }
                      agg = AggregatedHttpRequest.of(agg.headers());
                    }
                    Message request = bind(route, md, vars, query, agg);
                    return unary
                        ? new UnaryExchange(channel.newCall(md, options), metadata, replies).run(request)
                        : new ServerStreamExchange(channel.newCall(md, options), metadata, replies)
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
        Status.CANCELLED.withDescription(
            "the request body could not be read: the connection closed or the stream was reset"));
  }

  private Replies replies(HttpRequest req, Duration defaultTimeout) {
    return new Replies(req.headers(), json, CallSetup.deadlineSource(req.headers(), defaultTimeout));
  }

  private static Map<String, List<String>> query(String raw) {
    Map<String, List<String>> out = new LinkedHashMap<>();
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

}
