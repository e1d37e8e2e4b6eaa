package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.config.StoreFactory;
import dev.bytestreams3.storage.tier.TieredStore;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Our server started from command-line flags, as its main starts it (configuration, store
 * factory, services), on a loopback port, with a channel to it on the benchmark client's loop.
 */
final class FlaggedServer implements AutoCloseable {

  private final StoreFactory stores;
  private final CacheServer server;
  private final ManagedChannel channel;

  private FlaggedServer(StoreFactory stores, CacheServer server, ManagedChannel channel) {
    this.stores = stores;
    this.server = server;
    this.channel = channel;
  }

  /** Starts a server configured by {@code flags} (plus a loopback address and a free port). */
  static FlaggedServer start(ClientEventLoop loop, List<String> flags) throws IOException {
    List<String> args = new ArrayList<>(flags);
    args.add("--bind-address=127.0.0.1");
    args.add("--grpc-port=0");
    args.add("--http-port=-1");
    ServerConfig config = ConfigLoader.load(args.toArray(String[]::new), Map.of());
    StoreFactory stores = new StoreFactory(config);
    try {
      CacheServer server = CacheServer.start(config, stores.open(), ServerOptions.plain());
      return new FlaggedServer(stores, server, loop.channelTo(server.port()));
    } catch (IOException | RuntimeException e) {
      stores.close();
      throw e;
    }
  }

  ManagedChannel channel() {
    return channel;
  }

  /** Blobs the server's local tier has kept so far; zero for a server without the tier. */
  long tierFills() {
    return stores.open() instanceof TieredStore tier ? tier.counters().fills() : 0;
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    try {
      server.shutdown(Duration.ofSeconds(2));
    } finally {
      stores.close();
    }
  }
}
