package dev.bytestreams3.benchmarks;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark client's own transport thread, named apart from our server's gRPC threads so that
 * {@link CpuTime} can tell the client's CPU from the server's. One connection runs on one event
 * loop either way; epoll where Netty has it, as gRPC's default would use.
 */
final class ClientEventLoop implements AutoCloseable {

  private final EventLoopGroup group;
  private final boolean epoll = Epoll.isAvailable();

  ClientEventLoop() {
    DefaultThreadFactory threads = new DefaultThreadFactory(CpuTime.CLIENT_THREADS, true);
    group = epoll ? new EpollEventLoopGroup(1, threads) : new NioEventLoopGroup(1, threads);
  }

  /**
   * A plaintext channel to a server on loopback {@code port}, on this loop. The client's callbacks
   * never block; running them on its transport thread keeps the client's own cost, which shares
   * these cores, out of the servers' figures.
   */
  ManagedChannel channelTo(int port) {
    return apply(NettyChannelBuilder.forAddress("127.0.0.1", port))
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(8 << 20)
        .build();
  }

  /** Makes {@code builder}'s channel run on this loop. */
  NettyChannelBuilder apply(NettyChannelBuilder builder) {
    return builder
        .eventLoopGroup(group)
        .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class);
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
