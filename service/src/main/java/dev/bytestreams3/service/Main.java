package dev.bytestreams3.service;

import dev.bytestreams3.service.bytestream.IdleLimits;
import dev.bytestreams3.service.bytestream.OpeningMessages;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.config.StoreFactory;
import dev.bytestreams3.service.gateway.GatewayRoutes;
import dev.bytestreams3.service.gateway.GatewaySettings;
import dev.bytestreams3.service.gateway.RawRoutes;
import dev.bytestreams3.service.gateway.UploadPage;
import dev.bytestreams3.service.http.HealthEndpoints;
import dev.bytestreams3.service.http.StoreOutageGate;
import dev.bytestreams3.service.http.StoreReadiness;
import dev.bytestreams3.service.http.HttpRoutes;
import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.service.http.MetricsEndpoint;
import dev.bytestreams3.service.observe.CacheLookupMetrics;
import dev.bytestreams3.service.observe.CallRecorder;
import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.service.observe.IdleStreamMetrics;
import dev.bytestreams3.service.observe.LifecycleMetrics;
import dev.bytestreams3.service.observe.MemoryBudgetMetrics;
import dev.bytestreams3.service.observe.MetricsText;
import dev.bytestreams3.service.observe.OpeningMessageMetrics;
import dev.bytestreams3.service.observe.ReadinessMetrics;
import dev.bytestreams3.service.observe.RpcLog;
import dev.bytestreams3.service.observe.RpcMetrics;
import dev.bytestreams3.service.observe.S3RequestMetrics;
import dev.bytestreams3.service.observe.StoreFailureLog;
import dev.bytestreams3.service.observe.TierMetrics;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.service.security.ServerTls;
import dev.bytestreams3.service.security.TokenAuthInterceptor;
import dev.bytestreams3.service.security.TokenFile;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.local.LocalBlobStore;
import dev.bytestreams3.storage.tier.TieredStore;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Starts the server from flags and environment variables; stops it gracefully on SIGTERM. */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (ConfigLoader.wantsHelp(args)) {
      System.out.print(ConfigLoader.help());
      return;
    }
    ServerConfig config;
    ServerOptions options;
    EventLog events;
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try {
      config = ConfigLoader.load(args, System.getenv());
      events = new EventLog(config.logFormat(), System.out::println, Clock.systemUTC());
      options = options(config, events, metrics);
    } catch (IllegalArgumentException e) {
      System.err.println("bytestream-s3: " + e.getMessage());
      System.exit(2);
      return;
    }
    StoreFactory stores =
        new StoreFactory(
            config, List.of(
                new S3RequestMetrics(metrics, config.keyPrefix(), config.instanceNames()),
                new StoreFailureLog(events)));
    BlobStore opened;
    try {
      opened = stores.open();
    } catch (IllegalArgumentException e) {
      System.err.println("bytestream-s3: " + e.getMessage());
      System.exit(2);
      return;
    }
    StoreReadiness readiness =
        new StoreReadiness(opened, config.readinessTimeout(), config.readinessCache());
    // Calls see the store through the outage gate: while it is unreachable they fail fast.
    BlobStore store = new StoreOutageGate(opened, readiness, events);
    MemoryBudgetMetrics.register(stores.budget(), metrics);
    IdleLimits idle = CacheServer.idleLimits(config);
    IdleStreamMetrics.register(idle, metrics);
    OpeningMessages opening = CacheServer.openingMessages(config);
    OpeningMessageMetrics.register(opening, metrics);
    new JvmMemoryMetrics().bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);
    new ProcessorMetrics().bindTo(metrics);
    new UptimeMetrics().bindTo(metrics);
    if (opened instanceof TieredStore tiered) {
      events.info(
          "local-tier",
          "message", "local tier at " + config.cacheDir().orElseThrow() + ": CAS blobs are served from local disk when held there",
          "cache_max_bytes", tiered.maxBytes(),
          "cache_action_results_max_age_seconds",
          config.cacheActionResultsMaxAge().toSeconds());
      TierMetrics.register(tiered.counters(), metrics);
    }
    BlobStore backing = opened instanceof TieredStore tiered ? tiered.inner() : opened;
    if (backing instanceof LocalBlobStore local) {
      events.info(
          "local-store",
          "message",
          "local store at " + config.dataDir() + " keeps at most " + local.maxBytes()
              + " bytes of blobs"
              + (local.defaultMaxBytes()
                  ? " (default: half of its disk's free space plus what it holds;"
                      + " set --max-disk-bytes)"
                  : ""),
          "max_disk_bytes", local.maxBytes());
    }
    StoreGraph graph = StoreGraph.over(store, config);
    events.info("store", "message", "store: " + graph.describe());
    LifecycleMetrics.register(store.lifecycle(), graph.existenceCache(), metrics);
    CacheServer server =
        CacheServer.start(
            config.bindAddress(),
            config.grpcPort(),
            CacheServer.services(graph, config, idle, opening),
            options,
            CacheServer.maxInboundMessageBytes(config),
            config.grpcStreamWindowBytes(),
            config.grpcConnections());
    events.info(
        "start",
        "message", "bytestream-s3 serving gRPC on " + config.bindAddress() + ":" + server.port(),
        "tls", config.tls().isEmpty() ? "off" : "on",
        "tokens", config.tokenFile().isEmpty() ? "off" : "on",
        "sha256", Sha256.FUNCTION.implementation(),
        "config", config.toString());
    HealthEndpoints health =
        new HealthEndpoints(
            readiness,
            new ReadinessMetrics(metrics));
    // The first lookup warms the store's client before a load balancer's first probe.
    health.probeNow();
    HttpServer http = null;
    if (config.servesHttp()) {
      GatewaySettings gateway =
          new GatewaySettings(
              config.httpRulesFile(),
              config.httpIgnoreUnknownFields(),
              config.httpEmitUnpopulated(),
              config.httpMaxMessageBytes(),
              config.httpUnaryTimeout());
      try {
        // Built inside the try: a bad rules file fails here with a one-line message.
        List<HttpRoutes> routes = new ArrayList<>();
        routes.add(health);
        routes.add(new MetricsEndpoint(new MetricsText(metrics)));
        // Gateway and raw routes call the in-process twin, through the same interceptors: the
        // token check and the call log see their calls like any other.
        routes.add(new GatewayRoutes(server.inProcessChannel(), server.definitions(), gateway));
        routes.add(new RawRoutes(server.inProcessChannel(), CacheServer.digestFunctions()));
        routes.add(new UploadPage());
        http =
            HttpServer.start(
                config.bindAddress(), config.httpPort(), config.shutdownGrace(), routes, config.tls());
      } catch (RuntimeException e) {
        System.err.println("bytestream-s3: HTTP: " + e.getMessage());
        server.shutdown(Duration.ZERO);
        stores.close();
        System.exit(2);
        return;
      }
      events.info(
          "start-http",
          "message",
          "bytestream-s3 serving HTTP" + (config.tls().isPresent() ? "S" : "") + " on "
              + config.bindAddress() + ":" + http.port());
    }
    HttpServer httpServer = http;
    GracefulStop stop =
        new GracefulStop(
            () -> {
              events.info(
                  "stopping",
                  "message", "not taking new calls; calls in flight may run on",
                  "grace_seconds", config.shutdownGrace().toSeconds());
              health.markStopping();
              // Both ports drain at once, within one grace period.
              CompletableFuture<Void> httpStopped =
                  httpServer == null
                      ? CompletableFuture.completedFuture(null)
                      : CompletableFuture.runAsync(httpServer::stop);
              server.shutdown(config.shutdownGrace());
              httpStopped.join();
              stores.close();
              events.info(
                  "stopped",
                  "memory_budget_peak_bytes", stores.budget().peakBytes(),
                  "memory_budget_bytes", stores.budget().capacityBytes());
            });
    stop.install();
    server.awaitTermination();
    // The server ends only by being stopped; let the stop sequence finish before main returns.
    stop.awaitStopped();
  }

  /**
   * TLS and the interceptors every call passes: measuring first, then counting cache lookups, then
   * the token check.
   */
  private static ServerOptions options(
      ServerConfig config, EventLog events, PrometheusMeterRegistry metrics) {
    List<ServerInterceptor> interceptors = new ArrayList<>();
    interceptors.add(
        new CallRecorder(List.of(new RpcMetrics(metrics), new RpcLog(events)), Clock.systemUTC()));
    interceptors.add(new CacheLookupMetrics(metrics));
    if (config.tokenFile().isPresent()) {
      TokenFile tokens =
          TokenFile.open(config.tokenFile().get(), m -> events.warn("token-file", "message", m));
      interceptors.add(
          new TokenAuthInterceptor(
              tokens::table, new ResourceNameParser(CacheServer.digestFunctions())));
    }
    return new ServerOptions(config.tls().map(ServerTls::context), interceptors);
  }
}
