package dev.bytestreams3.service.http;

import com.linecorp.armeria.server.ServerBuilder;

/** Routes one part of the server adds to the HTTP port (health, gateway, raw bytes, a page...). */
@FunctionalInterface
public interface HttpRoutes {

  /** Adds this part's routes, decorators or settings to {@code server}. */
  void addTo(ServerBuilder server);
}
