package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.bytestream.ByteStreamService;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
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
            HashAlgorithm.SHA512);
    // Names that resource names may omit; the function is then inferred from the hash length.
    return new DigestFunctions(all, List.of("sha256", "sha1", "md5", "sha384", "sha512"));
  }

  private final Server server;
  private final HealthStatusManager health;
  private volatile boolean serving = true;

  private CacheServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /** The services this server offers over {@code store}. */
  public static List<BindableService> services(BlobStore store, boolean objectOverwrite) {
    ResourceNameParser names = new ResourceNameParser(digestFunctions());
    return List.of(new ByteStreamService(store, names, new KeyLayout(), objectOverwrite));
  }

  /** Starts a plain-text server on {@code bindAddress:port} (port 0 picks one). */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite) throws IOException {
    return start(bindAddress, port, store, objectOverwrite, ServerOptions.plain());
  }

  /** Starts a server on {@code bindAddress:port} (port 0 picks one) exposed as {@code options} say. */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite, ServerOptions options)
      throws IOException {
    requireNonNull(store, "store");
    requireNonNull(options, "options");
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder nb = NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port));
    options.tls().ifPresent(nb::sslContext);
    // The builder calls the interceptor added last first.
    for (int i = options.interceptors().size() - 1; i >= 0; i--) {
      nb.intercept(options.interceptors().get(i));
    }
    ServerBuilder<?> b =
        nb.addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(ProtoReflectionService.newInstance());
    for (BindableService s : services(store, objectOverwrite)) {
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

  /** Whether the server takes new calls: true from start until {@link #shutdown} begins. */
  public boolean isServing() {
    return serving;
  }

  /**
   * Stops taking calls (health turns {@code NOT_SERVING}, new calls are refused with {@code
   * UNAVAILABLE}), lets calls in flight run for up to {@code grace}, then cuts what is left.
   */
  public void shutdown(Duration grace) throws InterruptedException {
    serving = false;
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
