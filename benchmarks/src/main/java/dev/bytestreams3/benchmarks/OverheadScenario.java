package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What our server costs by itself: the same bytes written and read through it on the local store
 * (on disk, and on a memory-backed file system where the machine has one), on a store in the heap,
 * and through a bare ByteStream service with no store, all over loopback sockets.
 */
final class OverheadScenario {

  private static final long TIMEOUT_SECONDS = 600;
  private static final int ROUNDS = 5;
  private static final int DEFAULT_WINDOW_BYTES =
      ConfigLoader.load(new String[0], Map.of()).grpcStreamWindowBytes();
  private static final Path MEMORY_FS = Path.of("/dev/shm");
  /** How often the server's local store syncs an upload, as {@code StoreFactory} sets it. */
  private static final long CHECKPOINT_BYTES = 4L << 20;
  private static final String BASELINE_NOTE =
      "baseline: bare ByteStream service, no store; 1 MiB messages; plain object name; median of "
          + ROUNDS + " rounds taken in turn";

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
    List<Path> roots = new ArrayList<>();
    roots.add(Files.createTempDirectory("bench-local"));
    if (Files.isDirectory(MEMORY_FS) && Files.isWritable(MEMORY_FS)) {
      roots.add(Files.createTempDirectory(MEMORY_FS, "bench-memory"));
    }
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Server raw =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(new RawStreamService(data))
              // As our server runs ByteStream calls: on the transport thread.
              .directExecutor()
              .build()
              .start();
      open.add(raw::shutdownNow);
      Target floor = new Target("floor", raw.getPort(), "raw/floor", open);
      List<Target> ours = new ArrayList<>();
      List<Double> fileWrites = new ArrayList<>();
      for (Path root : roots) {
        fileWrites.add(fileWriteSeconds(root, data));
        String where = root.startsWith(MEMORY_FS) ? "tmpfs local store" : "local disk store";
        ours.add(serve(where, new LocalBlobStore(root, CHECKPOINT_BYTES, 8), open));
      }
      ours.add(serve("in-memory store", new HeapStore(), open));

      // Every side takes turns, round after round, so that each runs as warm a JVM as the others;
      // its median round counts: a round lasts a fraction of a second, and the best of several
      // such rounds is more luck than speed.
      for (int round = 0; round < ROUNDS; round++) {
        floor.measure(data);
        for (Target t : ours) {
          t.measure(data);
        }
      }

      for (int i = 0; i < ours.size(); i++) {
        Target t = ours.get(i);
        String writeNote = BASELINE_NOTE;
        if (i < fileWrites.size()) {
          // What writing the bytes to this file system costs by itself, and the ratio a server
          // would reach if that cost came on top of the floor's, as it does on shared cores.
          double file = fileWrites.get(i);
          writeNote +=
              String.format(
                  "; this file system alone takes %.0f MiB/s in the same 1 MiB writes and syncs,"
                      + " so the floor followed by that file write would make %.2f×",
                  mib / file, floor.write() / (floor.write() + file));
        } else {
          writeNote += "; the store keeps blobs in the heap and does nothing else";
          writeNote +=
              "; each stream's HTTP/2 window is --grpc-stream-window-bytes' default ("
                  + (DEFAULT_WINDOW_BYTES >> 10) + " KiB)";
        }
        rows.add(Row.compared("server write " + mib + " MiB, " + t.name, "MiB/s", mib / t.write(), mib / floor.write(), 0.7, true, writeNote));
        rows.add(Row.compared("server read " + mib + " MiB, " + t.name, "MiB/s", mib / t.read(), mib / floor.read(), 0.7, true, BASELINE_NOTE));
      }
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
      for (Path root : roots) {
        delete(root);
      }
    }
  }

  /** Starts our server on {@code store}; both are closed with the rest of {@code open}. */
  private static Target serve(String name, BlobStore store, List<AutoCloseable> open)
      throws Exception {
    open.add(store);
    CacheServer server = CacheServer.start("127.0.0.1", 0, store, true);
    open.add(() -> server.shutdown(Duration.ofSeconds(2)));
    return new Target(name, server.port(), "bench/overhead", open);
  }

  /** One server under test and the seconds each of its rounds took to write and to read. */
  private static final class Target {
    final String name;
    final String resourceName;
    final ByteStreamClient client;
    final List<Double> writes = new ArrayList<>();
    final List<Double> reads = new ArrayList<>();

    Target(String name, int port, String resourceName, List<AutoCloseable> open) {
      this.name = name;
      this.resourceName = resourceName;
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .directExecutor()
              .maxInboundMessageSize(8 << 20)
              .build();
      open.add(channel::shutdownNow);
      this.client = new ByteStreamClient(channel);
    }

    void measure(byte[] data) throws Exception {
      writes.add(Timed.seconds(() -> client.write(resourceName, data, 1 << 20), TIMEOUT_SECONDS));
      reads.add(Timed.seconds(() -> client.read(resourceName, data), TIMEOUT_SECONDS));
    }

    double write() {
      return median(writes);
    }

    double read() {
      return median(reads);
    }

    private static double median(List<Double> seconds) {
      List<Double> sorted = seconds.stream().sorted().toList();
      int n = sorted.size();
      return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
  }

  /**
   * Seconds to write {@code data} to a new file under {@code root} as the local store does, in 1
   * MiB writes with a sync every {@link #CHECKPOINT_BYTES} and at the end; the best of two.
   */
  private static double fileWriteSeconds(Path root, byte[] data) throws Exception {
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 2; round++) {
      Path file = root.resolve("file-write-" + round);
      long start = System.nanoTime();
      try (FileChannel ch =
          FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        long synced = 0;
        for (int i = 0; i < data.length; i += 1 << 20) {
          ByteBuffer b = ByteBuffer.wrap(data, i, Math.min(1 << 20, data.length - i));
          while (b.hasRemaining()) {
            ch.write(b);
          }
          if (i + (1 << 20) - synced >= CHECKPOINT_BYTES) {
            ch.force(false);
            synced = i + (1 << 20);
          }
        }
        ch.force(true);
      }
      best = Math.min(best, (System.nanoTime() - start) / 1e9);
      Files.delete(file);
    }
    return best;
  }

  private static void delete(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
