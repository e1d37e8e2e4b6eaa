package dev.bytestreams3.service;

import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.config.StoreFactory;
import dev.bytestreams3.service.gateway.GatewayRoutes;
import dev.bytestreams3.service.gateway.GatewaySettings;
import dev.bytestreams3.service.gateway.RawRoutes;
import dev.bytestreams3.service.gateway.UploadPage;
import dev.bytestreams3.service.http.HealthEndpoints;
import dev.bytestreams3.service.http.HttpRoutes;
import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.storage.BlobStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the server from flags and environment variables; stops it gracefully on SIGTERM. */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (ConfigLoader.wantsHelp(args)) {
      System.out.print(ConfigLoader.help());
      return;
    }
    ServerConfig config;
    try {
      config = ConfigLoader.load(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("bytestream-s3: " + e.getMessage());
      System.exit(2);
      return;
    }
    StoreFactory stores = new StoreFactory(config);
    BlobStore store = stores.open();
    CacheServer server =
        CacheServer.start(
            config.bindAddress(),
            config.grpcPort(),
            CacheServer.services(store, config),
            List.of(),
            CacheServer.maxInboundMessageBytes(config));
    log.info("bytestream-s3 serving gRPC on {}:{} with {}", config.bindAddress(), server.port(), config);
    HealthEndpoints health = new HealthEndpoints(store, Duration.ofSeconds(5));
    HttpServer http = null;
    if (config.servesHttp()) {
      GatewaySettings gateway =
          new GatewaySettings(
              config.httpRulesFile(),
              config.httpIgnoreUnknownFields(),
              config.httpMaxMessageBytes(),
              config.httpUnaryTimeout());
      try {
        List<HttpRoutes> routes = new ArrayList<>();
        routes.add(health);
        routes.add(new GatewayRoutes(server.inProcessChannel(), server.definitions(), gateway));
        routes.add(new RawRoutes(server.inProcessChannel(), CacheServer.digestFunctions()));
        routes.add(new UploadPage());
        http = HttpServer.start(config.bindAddress(), config.httpPort(), config.shutdownGrace(), routes);
      } catch (RuntimeException e) {
        System.err.println("bytestream-s3: HTTP: " + e.getMessage());
        server.shutdown(Duration.ZERO);
        stores.close();
        System.exit(2);
        return;
      }
      log.info("bytestream-s3 serving HTTP on {}:{}", config.bindAddress(), http.port());
    }
    HttpServer httpServer = http;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down; calls in flight have {}", config.shutdownGrace());
                  health.markStopping();
                  if (httpServer != null) {
                    httpServer.stop();
                  }
                  try {
                    server.shutdown(config.shutdownGrace());
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  stores.close();
                  log.info(
                      "stopped; memory budget peak {} of {} bytes",
                      stores.budget().peakBytes(),
                      stores.budget().capacityBytes());
                  // A stop on request that drained every call is a success: exit 0, not the
                  // JVM's 143 for SIGTERM, so supervisors and scripts see a clean stop.
                  Runtime.getRuntime().halt(0);
                },
                "shutdown"));
    server.awaitTermination();
  }
}
