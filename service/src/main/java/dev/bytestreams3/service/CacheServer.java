package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.actioncache.ActionCacheService;
import dev.bytestreams3.service.bytestream.ByteStreamService;
import dev.bytestreams3.service.capabilities.CapabilitiesService;
import dev.bytestreams3.service.cas.BlobPresence;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.cas.ContentAddressableStorageService;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.Blake3;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.HashAlgorithm;
import dev.bytestreams3.storage.HashFunction;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The gRPC server: every service of this project over one {@link BlobStore}, on one port. */
public final class CacheServer {

  /** The digest functions verified here; SHA-256 first, as the default. */
  public static DigestFunctions digestFunctions() {
    List<HashFunction> all =
        List.of(
            HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5, HashAlgorithm.SHA384,
            HashAlgorithm.SHA512, Blake3.FUNCTION);
    // Names that resource names may omit; the function is then inferred from the hash length.
    // BLAKE3 shares SHA-256's length, so it is always named.
    return new DigestFunctions(all, List.of("sha256", "sha1", "md5", "sha384", "sha512"));
  }

  private final Server server;
  private final HealthStatusManager health;

  private CacheServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /** The services this server offers over {@code store}, configured by {@code config}. */
  public static List<BindableService> services(BlobStore store, ServerConfig config) {
    requireNonNull(store, "store");
    requireNonNull(config, "config");
    DigestFunctions digests = digestFunctions();
    Instances instances = new Instances(config.instanceNames());
    KeyLayout layout = new KeyLayout();
    CasLimits limits = new CasLimits(config.maxBatchTotalSizeBytes(), config.maxCasBlobSizeBytes());
    BlobPresence presence =
        new BlobPresence(store, config.existenceCacheEntries(), config.existenceChecksInFlight());
    ResourceNameParser names = new ResourceNameParser(digests, instances);
    return List.of(
        new ByteStreamService(store, names, layout, config.objectOverwrite(), limits),
        new ContentAddressableStorageService(store, digests, instances, layout, presence, limits),
        new ActionCacheService(
            store, digests, instances, layout, presence, config.inlineOutputLimitBytes(),
            config.actionCacheReadOnly()),
        new CapabilitiesService(digests, instances, limits, config.actionCacheReadOnly()));
  }

  /** Starts a server on the configured address and port (port 0 picks one). */
  public static CacheServer start(ServerConfig config, BlobStore store) throws IOException {
    requireNonNull(store, "store");
    HealthStatusManager health = new HealthStatusManager();
    // Batch calls carry up to the advertised total, plus their framing.
    int maxMessage =
        (int) Math.min(Integer.MAX_VALUE, Math.max(4L << 20, config.maxBatchTotalSizeBytes() + (1 << 20)));
    ServerBuilder<?> b =
        NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.grpcPort()))
            .maxInboundMessageSize(maxMessage)
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(ProtoReflectionService.newInstance());
    for (BindableService s : services(store, config)) {
      b.addService(s);
    }
    Server server = b.build().start();
    health.setStatus("", ServingStatus.SERVING);
    return new CacheServer(server, health);
  }

  /** The port the server listens on. */
  public int port() {
    return server.getPort();
  }

  /**
   * Stops taking calls, lets calls in flight run for up to {@code grace}, then cuts what is left.
   */
  public void shutdown(Duration grace) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Blocks until the server has terminated. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }
}
