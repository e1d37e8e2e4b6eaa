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
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server: every service of this project over one {@link BlobStore}, on one port, and an
 * in-process twin of it built from the same services and interceptors, which the HTTP gateway
 * calls so that its statuses and checks are the ones gRPC clients see.
 */
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
  private final Server twin;
  private final ManagedChannel twinChannel;
  private final HealthStatusManager health;
  private final List<ServerServiceDefinition> definitions;
  private volatile boolean serving = true;

  private CacheServer(
      Server server,
      Server twin,
      ManagedChannel twinChannel,
      HealthStatusManager health,
      List<ServerServiceDefinition> definitions) {
    this.server = server;
    this.twin = twin;
    this.twinChannel = twinChannel;
    this.health = health;
    this.definitions = definitions;
  }

  /** The services this server offers over {@code store}. */
  public static List<BindableService> services(BlobStore store, boolean objectOverwrite) {
    ResourceNameParser names = new ResourceNameParser(digestFunctions());
    return List.of(new ByteStreamService(store, names, new KeyLayout(), objectOverwrite));
  }

  /** Starts a plain-text server on {@code bindAddress:port} (port 0 picks one), no interceptors. */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite) throws IOException {
    requireNonNull(store, "store");
    return start(bindAddress, port, services(store, objectOverwrite), ServerOptions.plain());
  }

  /** Starts the services over {@code store} exposed as {@code options} say. */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite, ServerOptions options)
      throws IOException {
    requireNonNull(store, "store");
    return start(bindAddress, port, services(store, objectOverwrite), options);
  }

  /**
   * Starts {@code services} in plain text on {@code bindAddress:port} (port 0 picks one) and in
   * process, each call passing through {@code interceptors} in list order (the first one sees a
   * call first).
   */
  public static CacheServer start(
      String bindAddress,
      int port,
      List<BindableService> services,
      List<ServerInterceptor> interceptors)
      throws IOException {
    return start(bindAddress, port, services, new ServerOptions(Optional.empty(), interceptors));
  }

  /**
   * Starts {@code services} on {@code bindAddress:port} (port 0 picks one), with TLS when {@code
   * options} has it, and in process; each call on either passes through the options'
   * interceptors in list order.
   */
  public static CacheServer start(
      String bindAddress, int port, List<BindableService> services, ServerOptions options)
      throws IOException {
    requireNonNull(options, "options");
    List<ServerInterceptor> interceptors = options.interceptors();
    requireNonNull(services, "services");
    requireNonNull(interceptors, "interceptors");
    HealthStatusManager health = new HealthStatusManager();
    List<ServerServiceDefinition> definitions = new ArrayList<>();
    definitions.add(health.getHealthService().bindService());
    definitions.add(ProtoReflectionServiceV1.newInstance().bindService());
    definitions.add(ProtoReflectionService.newInstance().bindService());
    for (BindableService s : services) {
      definitions.add(s.bindService());
    }
    // ServerInterceptors.intercept runs the last interceptor first; reverse so list order wins.
    List<ServerInterceptor> outermostLast = new ArrayList<>(interceptors);
    java.util.Collections.reverse(outermostLast);
    List<ServerServiceDefinition> intercepted = new ArrayList<>();
    for (ServerServiceDefinition d : definitions) {
      intercepted.add(ServerInterceptors.intercept(d, outermostLast));
    }

    NettyServerBuilder netty = NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port));
    options.tls().ifPresent(netty::sslContext);
    String twinName = "bytestream-s3-" + java.util.UUID.randomUUID();
    ServerBuilder<?> inProcess = InProcessServerBuilder.forName(twinName);
    for (ServerServiceDefinition d : intercepted) {
      netty.addService(d);
      inProcess.addService(d);
    }
    Server server = netty.build().start();
    Server twin = inProcess.build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(twinName).directExecutor().build();
    health.setStatus("", ServingStatus.SERVING);
    return new CacheServer(server, twin, channel, health, List.copyOf(intercepted));
  }

  /** The port the server listens on. */
  public int port() {
    return server.getPort();
  }

  /** Whether the server takes new calls: true from start until {@link #shutdown} begins. */
  public boolean isServing() {
    return serving;
  }

  /** A channel to the in-process twin: the same services and interceptors, without a socket. */
  public ManagedChannel inProcessChannel() {
    return twinChannel;
  }

  /** The service definitions both servers serve, with their interceptors applied. */
  public List<ServerServiceDefinition> definitions() {
    return definitions;
  }

  /**
   * Stops taking calls (health turns {@code NOT_SERVING}, new calls are refused with {@code
   * UNAVAILABLE}), lets calls in flight run for up to {@code grace}, then cuts what is left.
   */
  public void shutdown(Duration grace) throws InterruptedException {
    serving = false;
    health.enterTerminalState();
    server.shutdown();
    twin.shutdown();
    long deadline = System.nanoTime() + grace.toNanos();
    if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    long left = Math.max(0, deadline - System.nanoTime());
    if (!twin.awaitTermination(left, TimeUnit.NANOSECONDS)) {
      twin.shutdownNow();
    }
    twinChannel.shutdownNow();
  }

  /** Blocks until the server has terminated. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }
}
