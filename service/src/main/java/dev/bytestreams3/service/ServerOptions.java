package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Optional;

/**
 * How the gRPC port is exposed: TLS or plain text, and the interceptors every call passes, the
 * first of the list seeing a call first.
 */
public record ServerOptions(Optional<SslContext> tls, List<ServerInterceptor> interceptors) {

  public ServerOptions {
    requireNonNull(tls, "tls");
    interceptors = List.copyOf(requireNonNull(interceptors, "interceptors"));
  }

  /** Plain text, no interceptors: for local use and tests. */
  public static ServerOptions plain() {
    return new ServerOptions(Optional.empty(), List.of());
  }
}
