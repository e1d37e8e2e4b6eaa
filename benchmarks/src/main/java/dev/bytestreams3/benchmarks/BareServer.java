package dev.bytestreams3.benchmarks;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Starts the floors' gRPC servers: one service on loopback, its calls on the transport thread as
 * our server runs ByteStream calls, each stream with a fixed window as our server's.
 */
final class BareServer {

  private BareServer() {}

  static Server start(BindableService service, int windowBytes) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(service)
        .directExecutor()
        .flowControlWindow(windowBytes)
        .build()
        .start();
  }
}
