package dev.bytestreams3.service;

import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.config.StoreFactory;
import dev.bytestreams3.storage.BlobStore;
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
    CacheServer server = CacheServer.start(config, store);
    log.info("bytestream-s3 serving gRPC on {}:{} with {}", config.bindAddress(), server.port(), config);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down; calls in flight have {}", config.shutdownGrace());
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
                },
                "shutdown"));
    server.awaitTermination();
  }
}
