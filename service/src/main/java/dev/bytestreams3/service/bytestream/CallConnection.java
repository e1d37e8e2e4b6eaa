package dev.bytestreams3.service.bytestream;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Tells a call which connection it came on, so that what one connection's calls wait for can be
 * shared out connection by connection. The token is the transport's attributes, which gRPC builds
 * once per connection and hands to each of its calls; it is only ever compared by identity.
 */
final class CallConnection implements ServerInterceptor {

  private static final Context.Key<Object> CONNECTION = Context.key("bytestream-connection");

  /** The current call's connection token, or a token of its own outside a call. */
  static Object current() {
    Object c = CONNECTION.get();
    return c != null ? c : new Object();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Object token = call.getAttributes();
    if (token == null) {
      token = new Object();
    }
    return Contexts.interceptCall(
        Context.current().withValue(CONNECTION, token), call, headers, next);
  }
}
