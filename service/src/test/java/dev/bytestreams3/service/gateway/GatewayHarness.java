package dev.bytestreams3.service.gateway;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.http.HealthEndpoints;
import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A server as {@code Main} builds it, on loopback and ephemeral ports: gRPC over Netty, and the
 * HTTP port with health, gateway, raw routes and the upload page. Plus clients for both.
 */
final class GatewayHarness implements AutoCloseable {

  final LocalBlobStore store;
  final CacheServer grpc;
  final HttpServer http;
  final HealthEndpoints health;
  final ManagedChannel channel;
  final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  GatewayHarness(Path dir, GatewaySettings settings, List<BindableService> extra, List<ServerInterceptor> interceptors)
      throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    List<BindableService> services = new ArrayList<>(CacheServer.services(store, ConfigLoader.load(new String[0], java.util.Map.of())));
    services.addAll(extra);
    grpc = CacheServer.start("127.0.0.1", 0, services, interceptors);
    health = new HealthEndpoints(store, Duration.ofSeconds(2));
    http =
        HttpServer.start(
            "127.0.0.1",
            0,
            Duration.ofSeconds(1),
            List.of(
                health,
                new GatewayRoutes(grpc.inProcessChannel(), grpc.definitions(), settings),
                new RawRoutes(grpc.inProcessChannel(), CacheServer.digestFunctions()),
                new UploadPage()));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", grpc.port()).usePlaintext().build();
  }

  GatewayHarness(Path dir) throws Exception {
    this(dir, GatewaySettings.defaults(), List.of(), List.of());
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + http.port() + pathAndQuery);
  }

  HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<byte[]> getBytes(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  HttpResponse<String> send(String method, String pathAndQuery, HttpRequest.BodyPublisher body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).method(method, body);
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    http.stop();
    grpc.shutdown(Duration.ZERO);
    store.close();
  }
}
