package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What our server costs by itself: the same bytes written and read through it on the local store
 * (on disk, and on a memory-backed file system where the machine has one), on a store in the heap,
 * and through a bare ByteStream service with no store and the same transport settings, all over
 * loopback sockets. Beside the local store it measures, in the same rounds, a bare ByteStream
 * service that does the file work alone ({@link FileStreamService}): the least any server keeping
 * the bytes on that file system pays. Where ours misses the target against the bare service but
 * meets it against that one, the row names the file system as the limit.
 */
final class OverheadScenario {

  private static final long TIMEOUT_SECONDS = 600;
  private static final int ROUNDS = 7;
  /**
   * Reads of the blob in one round, timed together: one read from memory takes under 0.2 s, which
   * the machine's own stalls blur; medians of single reads moved by a third between runs.
   */
  private static final int READS_PER_ROUND = 4;
  private static final int DEFAULT_WINDOW_BYTES = ConfigLoader.DEFAULT_GRPC_STREAM_WINDOW_BYTES;
  /** A window that holds a whole 1 MiB message, measured beside the default. */
  private static final int WIDE_WINDOW_BYTES = 1 << 20;
  private static final Path MEMORY_FS = Path.of("/dev/shm");
  /** How often the server's local store syncs an upload, as {@code StoreFactory} sets it. */
  private static final long CHECKPOINT_BYTES = 4L << 20;
  private static final int CHUNK_BYTES = 1 << 20;
  private static final double TARGET = 0.7;
  private static final String BASELINE_NOTE =
      "baseline: bare ByteStream service, no store; 1 MiB messages; plain object name; both"
          + " servers' streams with --grpc-stream-window-bytes' default window ("
          + (DEFAULT_WINDOW_BYTES >> 10) + " KiB); median of " + ROUNDS
          + " rounds taken in turn with this store's, a round writing the blob once and reading it "
          + READS_PER_ROUND + " times";

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
      int floorPort = startBare(new RawStreamService(data, false), DEFAULT_WINDOW_BYTES, open);
      for (Path root : roots) {
        settleDisk();
        String where = root.startsWith(MEMORY_FS) ? "tmpfs local store" : "local disk store";
        LocalBlobStore store =
            new LocalBlobStore(
                Files.createDirectories(root.resolve("store")), CHECKPOINT_BYTES, 8);
        Target ours = serve(where, store, DEFAULT_WINDOW_BYTES, open);
        Target files =
            new Target(
                "file floor",
                startBare(
                    new FileStreamService(
                        Files.createDirectories(root.resolve("file-floor")), CHECKPOINT_BYTES),
                    DEFAULT_WINDOW_BYTES,
                    open),
                "raw/file",
                open);
        Target floor = measure(data, floorPort, ours, List.of(files::measure), open);
        rows.add(
            localRow(
                "write", ours, ours.write(), floor.write(), files.write(),
                "writes each message to a new file, syncs every " + (CHECKPOINT_BYTES >> 20)
                    + " MiB and at the end, and renames it over the last"));
        rows.add(
            localRow(
                "read", ours, ours.read(), floor.read(), files.read(),
                "sends the file in 1 MiB reads while the client is ready"));
      }
      Target ours = serve("in-memory store", new HeapStore(), DEFAULT_WINDOW_BYTES, open);
      Target keeping =
          new Target(
              "keeping floor",
              startBare(new RawStreamService(data, true), DEFAULT_WINDOW_BYTES, open),
              "raw/keep",
              open);
      Target wide = serve("in-memory store", new HeapStore(), WIDE_WINDOW_BYTES, open);
      Target wideFloor =
          new Target(
              "wide floor",
              startBare(new RawStreamService(data, false), WIDE_WINDOW_BYTES, open),
              "raw/floor",
              open);
      Target floor =
          measure(
              data, floorPort, ours, List.of(keeping::measure, wide::measure, wideFloor::measure),
              open);
      addRows(
          ours,
          floor,
          // The floor drops each message, so its memory is used again at once; a store in the heap
          // puts every message in fresh memory. And a 1 MiB message through a smaller window waits
          // for window updates within itself.
          String.format(
              "; the store keeps blobs in the heap and does nothing else; in the same rounds"
                  + " the floor keeping the last write's messages, as this store does, took them at"
                  + " %.0f MiB/s, against which ours makes %.2f×, and with %d KiB windows on both"
                  + " sides ours wrote at %.0f MiB/s against the floor's %.0f (%.2f×) and read at"
                  + " %.0f against %.0f (%.2f×)",
              mib / keeping.write(), keeping.write() / ours.write(), WIDE_WINDOW_BYTES >> 10,
              mib / wide.write(), mib / wideFloor.write(), wideFloor.write() / wide.write(),
              mib / wide.read(), mib / wideFloor.read(), wideFloor.read() / wide.read()),
          "");
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
      for (Path root : roots) {
        delete(root);
      }
    }
  }

  /**
   * Writes out what earlier scenarios left in the page cache, where the machine has a {@code sync}
   * command: S3Mock keeps several GiB of objects on this disk by now, and a sync of the rounds that
   * comes while the kernel writes them back may wait behind them, the more often the more a side
   * syncs.
   */
  private static void settleDisk() throws InterruptedException {
    try {
      Process sync = new ProcessBuilder("sync").inheritIO().start();
      if (!sync.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        sync.destroy();
      }
    } catch (IOException noSyncCommand) {
      // Nothing to settle with; the rounds run as they are.
    }
  }

  /** One measured round of a side beside ours. */
  private interface Side {
    void measure(byte[] data) throws Exception;
  }

  /**
   * Measures {@code ours} against a floor at {@code floorPort}, with {@code besides} in the same
   * rounds, and returns the floor. The sides take turns, round after round, so that each runs as
   * warm a JVM as the others, and its median round counts: a round lasts a fraction of a second,
   * and the best of several such rounds is more luck than speed. Each store has rounds of its own:
   * the local store on disk, measured in turn with the tmpfs one, wrote at a third of its own
   * speed.
   */
  private Target measure(
      byte[] data, int floorPort, Target ours, List<Side> besides, List<AutoCloseable> open)
      throws Exception {
    Target floor = new Target("floor", floorPort, "raw/floor", open);
    for (int round = 0; round < ROUNDS; round++) {
      floor.measure(data);
      ours.measure(data);
      for (Side side : besides) {
        side.measure(data);
      }
    }
    return floor;
  }

  /** Adds the write and read rows of {@code ours} against {@code floor}. */
  private void addRows(Target ours, Target floor, String writeNote, String readNote) {
    rows.add(row("write", ours, ours.write(), floor.write(), writeNote));
    rows.add(row("read", ours, ours.read(), floor.read(), readNote));
  }

  private Row row(String what, Target ours, double oursSeconds, double floorSeconds, String note) {
    return Row.compared(
        "server " + what + " " + mib + " MiB, " + ours.name, "MiB/s", mib / oursSeconds,
        mib / floorSeconds, TARGET, true, BASELINE_NOTE + note);
  }

  /**
   * A local store's row: ours against the bare service, with the file floor's figure beside it;
   * the file system is named as the limit where ours reaches the target against the file floor.
   */
  private Row localRow(
      String what,
      Target ours,
      double oursSeconds,
      double floorSeconds,
      double fileSeconds,
      String fileWork) {
    double againstFiles = fileSeconds / oursSeconds;
    Row row =
        row(
            what, ours, oursSeconds, floorSeconds,
            String.format(
                "; in the same rounds a bare ByteStream service that only %s %s at %.0f MiB/s"
                    + " (%.2f× the bare service), against which ours makes %s",
                fileWork, what.equals("write") ? "took the bytes" : "gave the bytes",
                mib / fileSeconds, floorSeconds / fileSeconds, Row.atLeastText(againstFiles)));
    return againstFiles >= TARGET
        ? row.limitedBy(
            "the file system's: " + Row.atLeastText(againstFiles)
                + " a bare service doing only the file work")
        : row;
  }

  /**
   * Starts a bare ByteStream service with {@code windowBytes} streams ({@link BareServer}), closed
   * with the rest of {@code open}, and returns its port.
   */
  private static int startBare(
      BindableService service, int windowBytes, List<AutoCloseable> open) throws Exception {
    Server bare = BareServer.start(service, windowBytes);
    open.add(bare::shutdownNow);
    return bare.getPort();
  }

  /**
   * Starts our server on {@code store} as its main does, with the configuration's defaults but a
   * stream window of {@code windowBytes}; both are closed with the rest of {@code open}.
   */
  private static Target serve(
      String name, BlobStore store, int windowBytes, List<AutoCloseable> open) throws Exception {
    open.add(store);
    ServerConfig config =
        ConfigLoader.load(
            new String[] {"--grpc-port=0", "--grpc-stream-window-bytes=" + windowBytes}, Map.of());
    CacheServer server = CacheServer.start(config, store, ServerOptions.plain());
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
      writes.add(Timed.seconds(() -> client.write(resourceName, data, CHUNK_BYTES), TIMEOUT_SECONDS));
      long start = System.nanoTime();
      for (int i = 0; i < READS_PER_ROUND; i++) {
        Timed.seconds(() -> client.read(resourceName, data), TIMEOUT_SECONDS);
      }
      reads.add((System.nanoTime() - start) / 1e9 / READS_PER_ROUND);
    }

    double write() {
      return median(writes);
    }

    double read() {
      return median(reads);
    }
  }

  private static double median(List<Double> seconds) {
    List<Double> sorted = seconds.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static void delete(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
