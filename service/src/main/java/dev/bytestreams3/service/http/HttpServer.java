package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.service.security.TlsFiles;
import io.netty.handler.ssl.ClientAuth;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The HTTP port: HTTP/1.1 and cleartext HTTP/2 on one socket (and HTTP/1.0, answered without
 * chunks), serving whatever {@link HttpRoutes} it is given. Requests have no length limit and no server-wide timeout, because uploads and
 * downloads through it are long streams; the routes bound their own work.
 */
public final class HttpServer {

  private final Server server;

  private HttpServer(Server server) {
    this.server = server;
  }

  /**
   * Starts on {@code bindAddress:port} (0 picks a free port) with {@code routes}; on {@link #stop}
   * requests in flight get up to {@code shutdownGrace} to finish.
   */
  public static HttpServer start(
      String bindAddress, int port, Duration shutdownGrace, List<HttpRoutes> routes) {
    return start(bindAddress, port, shutdownGrace, routes, Optional.empty());
  }

  /**
   * Starts as {@link #start(String, int, Duration, List)} does; with {@code tls}, the port speaks
   * HTTPS only (and, with a client CA, asks every client for a certificate it issued).
   */
  public static HttpServer start(
      String bindAddress,
      int port,
      Duration shutdownGrace,
      List<HttpRoutes> routes,
      Optional<TlsFiles> tls) {
    requireNonNull(bindAddress, "bindAddress");
    requireNonNull(routes, "routes");
    requireNonNull(tls, "tls");
    InetSocketAddress address = new InetSocketAddress(bindAddress, port);
    ServerBuilder b = Server.builder();
    if (tls.isPresent()) {
      TlsFiles files = tls.get();
      b.https(address).tls(files.certFile().toFile(), files.keyFile().toFile());
      files
          .clientCaFile()
          .ifPresent(
              ca ->
                  b.tlsCustomizer(
                      ssl -> ssl.trustManager(ca.toFile()).clientAuth(ClientAuth.REQUIRE)));
    } else {
      b.http(address);
    }
    b.childChannelPipelineCustomizer(Http10Responses::install)
        .maxRequestLength(0)
        .requestTimeout(Duration.ZERO)
        .idleTimeout(Duration.ofMinutes(5))
        .gracefulShutdownTimeout(Duration.ZERO, shutdownGrace);
    for (HttpRoutes r : routes) {
      r.addTo(b);
    }
    Server server = b.build();
    server.start().join();
    return new HttpServer(server);
  }

  /** The port the server listens on. */
  public int port() {
    return server.activeLocalPort();
  }

  /** Closes the port, letting requests in flight finish within the shutdown grace. */
  public void stop() {
    server.stop().join();
  }
}
