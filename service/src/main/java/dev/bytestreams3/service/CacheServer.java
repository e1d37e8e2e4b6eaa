package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.actioncache.ActionCacheService;
import dev.bytestreams3.service.bytestream.ByteStreamService;
import dev.bytestreams3.service.bytestream.IdleLimits;
import dev.bytestreams3.service.bytestream.OpeningMessages;
import dev.bytestreams3.service.bytestream.TransportThreadCalls;
import dev.bytestreams3.service.capabilities.CapabilitiesService;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.cas.ContentAddressableStorageService;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.GrpcConnectionLimits;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.Blake3;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.HashAlgorithm;
import dev.bytestreams3.storage.HashFunction;
import dev.bytestreams3.storage.Sha256;
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
            Sha256.FUNCTION, HashAlgorithm.SHA1, HashAlgorithm.MD5, HashAlgorithm.SHA384,
            HashAlgorithm.SHA512, Blake3.FUNCTION);
    // Names that resource names may omit; the function is then inferred from the hash length.
    // BLAKE3 shares SHA-256's length, so it is always named.
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

  /**
   * The services this server offers over {@code backing}, configured by {@code config}, through
   * the store graph {@code config} describes ({@link StoreGraph}).
   */
  public static List<BindableService> services(BlobStore backing, ServerConfig config) {
    return services(StoreGraph.over(backing, config), config);
  }

  /** How long streams may stay idle, as {@code config} says. */
  public static IdleLimits idleLimits(ServerConfig config) {
    return new IdleLimits(config.writeFirstMessageTimeout(), config.streamIdleTimeout());
  }

  /** The services this server offers over {@code graph}, configured by {@code config}. */
  public static List<BindableService> services(StoreGraph graph, ServerConfig config) {
    return services(graph, config, idleLimits(config), openingMessages(config));
  }

  /**
   * The services this server offers over {@code graph}'s store, configured by {@code config},
   * ending idle streams as {@code idle} says and holding Writes' first messages in {@code opening}.
   */
  public static List<BindableService> services(
      StoreGraph graph, ServerConfig config, IdleLimits idle, OpeningMessages opening) {
    requireNonNull(graph, "graph");
    requireNonNull(idle, "idle");
    requireNonNull(opening, "opening");
    requireNonNull(config, "config");
    BlobStore store = graph.store();
    DigestFunctions digests = digestFunctions();
    Instances instances = new Instances(config.instanceNames());
    KeyLayout layout = new KeyLayout();
    CasLimits limits = new CasLimits(config.maxBatchTotalSizeBytes(), config.maxCasBlobSizeBytes());
    ResourceNameParser names = new ResourceNameParser(digests, instances);
    return List.of(
        new ByteStreamService(
            store, names, layout, config.objectOverwrite(), limits, opening, idle),
        new ContentAddressableStorageService(store, digests, instances, layout, limits),
        new ActionCacheService(
            store, digests, instances, layout, config.inlineOutputLimitBytes(),
            config.actionCacheReadOnly()),
        new CapabilitiesService(digests, instances, limits, config.actionCacheReadOnly()));
  }

  /** Starts every service over {@code store} as {@code config} says, exposed as {@code options} say. */
  public static CacheServer start(ServerConfig config, BlobStore store, ServerOptions options)
      throws IOException {
    requireNonNull(store, "store");
    return start(
        config.bindAddress(), config.grpcPort(), services(store, config), options,
        maxInboundMessageBytes(config), config.grpcStreamWindowBytes(), config.grpcConnections());
  }

  /** First messages of writes may hold a quarter of the memory budget on top of it. */
  public static OpeningMessages openingMessages(ServerConfig config) {
    return new OpeningMessages(config.memoryBudgetBytes() / 4, maxInboundMessageBytes(config));
  }

  /**
   * The largest request accepted: batch calls carry up to the advertised total, plus their
   * framing, and never less than gRPC's usual 4 MiB.
   */
  public static int maxInboundMessageBytes(ServerConfig config) {
    return (int)
        Math.min(Integer.MAX_VALUE, Math.max(4L << 20, config.maxBatchTotalSizeBytes() + (1 << 20)));
  }

  /** Starts a plain-text server on {@code bindAddress:port} (port 0 picks one), no interceptors. */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite) throws IOException {
    return start(bindAddress, port, store, objectOverwrite, ServerOptions.plain());
  }

  /**
   * Starts the services over {@code store}, with default settings but {@code objectOverwrite},
   * exposed as {@code options} say.
   */
  public static CacheServer start(
      String bindAddress, int port, BlobStore store, boolean objectOverwrite, ServerOptions options)
      throws IOException {
    requireNonNull(store, "store");
    ServerConfig defaults =
        ConfigLoader.load(new String[] {"--object-overwrite=" + objectOverwrite}, java.util.Map.of());
    return start(
        bindAddress, port, services(store, defaults), options, maxInboundMessageBytes(defaults),
        defaults.grpcStreamWindowBytes());
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
    return start(
        bindAddress, port, services, options, 4 << 20, ConfigLoader.DEFAULT_GRPC_STREAM_WINDOW_BYTES);
  }

  /**
   * As {@link #start(String, int, List, ServerOptions)}, accepting requests up to the given size,
   * each stream with an HTTP/2 window of {@code streamWindowBytes}.
   */
  public static CacheServer start(
      String bindAddress,
      int port,
      List<BindableService> services,
      ServerOptions options,
      int maxInboundMessageBytes,
      int streamWindowBytes)
      throws IOException {
    return start(
        bindAddress, port, services, options, maxInboundMessageBytes, streamWindowBytes,
        GrpcConnectionLimits.defaults());
  }

  /**
   * As {@link #start(String, int, List, ServerOptions, int, int)}, each connection held to {@code
   * connections}.
   */
  public static CacheServer start(
      String bindAddress,
      int port,
      List<BindableService> services,
      ServerOptions options,
      int maxInboundMessageBytes,
      int streamWindowBytes,
      GrpcConnectionLimits connections)
      throws IOException {
    requireNonNull(options, "options");
    requireNonNull(connections, "connections");
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

    NettyServerBuilder netty =
        NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port))
            .maxInboundMessageSize(maxInboundMessageBytes)
            // Each stream may have this much unread data in transport buffers, outside the memory
            // budget. A fixed window also turns off gRPC's automatic growth, which lets every
            // stream of a fast connection buffer up to 8 MiB.
            .flowControlWindow(streamWindowBytes)
            .callExecutor(new TransportThreadCalls())
            // Dead peers and forgotten connections go away; no connection opens calls without end.
            .keepAliveTime(connections.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
            .keepAliveTimeout(connections.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
            // Clients may ping as often as the server does (Bazel's --grpc_keepalive_time).
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .maxConnectionIdle(connections.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS)
            .maxConcurrentCallsPerConnection(connections.maxConcurrentStreams());
    if (!connections.maxConnectionAge().isZero()) {
      netty
          .maxConnectionAge(connections.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
          .maxConnectionAgeGrace(
              connections.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS);
    }
    options.tls().ifPresent(netty::sslContext);
    String twinName = "bytestream-s3-" + java.util.UUID.randomUUID();
    ServerBuilder<?> inProcess =
        InProcessServerBuilder.forName(twinName).maxInboundMessageSize(maxInboundMessageBytes);
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

  /**
   * Whether the server takes new calls: true from start until {@link #shutdown} has told both
   * servers to refuse them.
   */
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
    health.enterTerminalState();
    server.shutdown();
    twin.shutdown();
    // Only now: whoever sees false may rely on new calls being refused.
    serving = false;
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
