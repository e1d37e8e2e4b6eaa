package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

/**
 * One HTTP binding of a gRPC method.
 *
 * @param selector the method's full name, e.g. {@code google.bytestream.ByteStream.Read}
 * @param httpMethod {@code GET}, {@code POST}, {@code PUT}, {@code PATCH} or {@code DELETE}
 * @param template the path template
 * @param body which request field the body fills: empty for none, {@code *} for the whole
 *     request, or a top-level field name
 */
record RouteRule(String selector, String httpMethod, PathTemplate template, String body) {

  RouteRule {
    requireNonNull(selector, "selector");
    requireNonNull(httpMethod, "httpMethod");
    requireNonNull(template, "template");
    requireNonNull(body, "body");
  }

  boolean hasBody() {
    return !body.isEmpty();
  }
}
