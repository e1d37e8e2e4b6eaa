package dev.bytestreams3.service;

import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.util.Map;

/** Every service of the server over a local store, on the in-process transport. */
public final class InProcessCache implements AutoCloseable {

  private final LocalBlobStore local;
  private final CountingStore store;
  private final Server server;
  private final ManagedChannel channel;

  private InProcessCache(LocalBlobStore local, CountingStore store, Server server, ManagedChannel channel) {
    this.local = local;
    this.store = store;
    this.server = server;
    this.channel = channel;
  }

  /** Starts the services with the given server flags, storing under {@code dir}. */
  public static InProcessCache start(Path dir, String... flags) throws Exception {
    ServerConfig config = ConfigLoader.load(flags, Map.of());
    LocalBlobStore local = new LocalBlobStore(dir, 1024 * 1024, 4);
    CountingStore store = new CountingStore(local);
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name);
    for (BindableService s : CacheServer.services(store, config)) {
      b.addService(s);
    }
    Server server = b.build().start();
    ManagedChannel channel =
        InProcessChannelBuilder.forName(name).maxInboundMessageSize(64 << 20).build();
    return new InProcessCache(local, store, server, channel);
  }

  public ManagedChannel channel() {
    return channel;
  }

  /** The store as the services see it, with its request counts. */
  public CountingStore store() {
    return store;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
    local.close();
  }
}
