package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What our server costs by itself: the same bytes written and read through it on the local store
 * (on disk, and on a memory-backed file system where the machine has one) and through a bare
 * ByteStream service with no store, all over loopback sockets.
 */
final class OverheadScenario {

  private static final long TIMEOUT_SECONDS = 600;
  private static final Path MEMORY_FS = Path.of("/dev/shm");

  private final int mib;
  private final List<Row> rows = new ArrayList<>();

  OverheadScenario(int mib) {
    this.mib = mib;
  }

  List<Row> rows() {
    return rows;
  }

  void run() throws Exception {
    byte[] data = new Blobs(7).random(mib << 20);
    Server raw =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new RawStreamService(data))
            // As our server runs ByteStream calls: on the transport thread.
            .directExecutor()
            .build()
            .start();
    double[] floor;
    try {
      floor = writeAndRead(raw.getPort(), data, "raw/floor");
    } finally {
      raw.shutdownNow();
    }
    List<Path> roots = new ArrayList<>();
    roots.add(Files.createTempDirectory("bench-local"));
    if (Files.isDirectory(MEMORY_FS) && Files.isWritable(MEMORY_FS)) {
      roots.add(Files.createTempDirectory(MEMORY_FS, "bench-memory"));
    }
    for (Path root : roots) {
      String where = root.startsWith(MEMORY_FS) ? "in-memory (tmpfs) store" : "local disk store";
      double[] ours;
      try (LocalBlobStore store = new LocalBlobStore(root, 4L << 20, 8)) {
        CacheServer server = CacheServer.start("127.0.0.1", 0, store, true);
        try {
          ours = writeAndRead(server.port(), data, "bench/overhead");
        } finally {
          server.shutdown(Duration.ofSeconds(2));
        }
      } finally {
        delete(root);
      }
      String note = "baseline: bare ByteStream service, no store; 1 MiB messages; plain object name";
      rows.add(Row.compared("server write " + mib + " MiB, " + where, "MiB/s", mib / ours[0], mib / floor[0], 0.7, true, note));
      rows.add(Row.compared("server read " + mib + " MiB, " + where, "MiB/s", mib / ours[1], mib / floor[1], 0.7, true, note));
    }
  }

  /**
   * Seconds to write {@code data} and to read it back through the server on {@code port}: the best
   * of two rounds, so that the first round's JIT compilation does not count against either side.
   */
  private static double[] writeAndRead(int port, byte[] data, String name) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .directExecutor()
            .maxInboundMessageSize(8 << 20)
            .build();
    try {
      ByteStreamClient client = new ByteStreamClient(channel);
      double write = Double.MAX_VALUE;
      double read = Double.MAX_VALUE;
      for (int round = 0; round < 2; round++) {
        write = Math.min(write, Timed.seconds(() -> client.write(name, data, 1 << 20), TIMEOUT_SECONDS));
        read = Math.min(read, Timed.seconds(() -> client.read(name, data), TIMEOUT_SECONDS));
      }
      return new double[] {write, read};
    } finally {
      channel.shutdownNow();
    }
  }

  private static void delete(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
