package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The HTTP port: HTTP/1.1 and cleartext HTTP/2 on one socket, serving whatever {@link HttpRoutes}
 * it is given. Requests have no length limit and no server-wide timeout, because uploads and
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
    requireNonNull(bindAddress, "bindAddress");
    requireNonNull(routes, "routes");
    ServerBuilder b =
        Server.builder()
            .http(new InetSocketAddress(bindAddress, port))
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
