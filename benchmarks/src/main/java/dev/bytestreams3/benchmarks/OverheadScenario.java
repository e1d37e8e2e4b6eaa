package dev.bytestreams3.benchmarks;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * What our server costs by itself: the same bytes written and read through it on the local store
 * (on disk, and on a memory-backed file system where the machine has one), on a store in the heap,
 * and through a bare ByteStream service with no store and the same transport settings, all over
 * loopback sockets. Beside the local store it measures, in the same rounds, that store called
 * directly (no gRPC) and the file system taking the same 1 MiB writes, syncs and reads, so that a
 * row shows how much of its time is the store's and the disk's.
 */
final class OverheadScenario {

  private static final long TIMEOUT_SECONDS = 600;
  private static final int ROUNDS = 5;
  private static final int DEFAULT_WINDOW_BYTES = ConfigLoader.DEFAULT_GRPC_STREAM_WINDOW_BYTES;
  /** A window that holds a whole 1 MiB message, measured beside the default. */
  private static final int WIDE_WINDOW_BYTES = 1 << 20;
  private static final Path MEMORY_FS = Path.of("/dev/shm");
  /** How often the server's local store syncs an upload, as {@code StoreFactory} sets it. */
  private static final long CHECKPOINT_BYTES = 4L << 20;
  private static final int CHUNK_BYTES = 1 << 20;
  private static final String BASELINE_NOTE =
      "baseline: bare ByteStream service, no store; 1 MiB messages; plain object name; both"
          + " servers' streams with --grpc-stream-window-bytes' default window ("
          + (DEFAULT_WINDOW_BYTES >> 10) + " KiB); median of " + ROUNDS
          + " rounds taken in turn with this store's";

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
      int floorPort = startFloor(data, false, DEFAULT_WINDOW_BYTES, open);
      for (Path root : roots) {
        String where = root.startsWith(MEMORY_FS) ? "tmpfs local store" : "local disk store";
        LocalBlobStore store = new LocalBlobStore(root, CHECKPOINT_BYTES, 8);
        Target ours = serve(where, store, DEFAULT_WINDOW_BYTES, open);
        DiskShare disk = new DiskShare(store, root);
        Target floor = measure(data, floorPort, ours, List.of(disk::measure), open);
        // What the store and the file system take by themselves, and the ratio a server would
        // reach if the store's time came on top of the floor's, as it does on shared cores.
        addRows(
            ours,
            floor,
            String.format(
                "; in the same rounds this local store, called directly, wrote at %.0f MiB/s and"
                    + " the file system took the same 1 MiB writes and syncs at %.0f MiB/s, so"
                    + " the floor followed by the store's own write would make %.2f×",
                mib / disk.storeWrite(), mib / disk.fileWrite(),
                floor.write() / (floor.write() + disk.storeWrite())),
            String.format(
                "; in the same rounds this local store, called directly, read at %.0f MiB/s and"
                    + " the file system gave the same 1 MiB reads at %.0f MiB/s, so the floor"
                    + " followed by the store's own read would make %.2f×",
                mib / disk.storeRead(), mib / disk.fileRead(),
                floor.read() / (floor.read() + disk.storeRead())));
      }
      Target ours = serve("in-memory store", new HeapStore(), DEFAULT_WINDOW_BYTES, open);
      Target keeping =
          new Target(
              "keeping floor", startFloor(data, true, DEFAULT_WINDOW_BYTES, open), "raw/keep", open);
      Target wide = serve("in-memory store", new HeapStore(), WIDE_WINDOW_BYTES, open);
      Target wideFloor =
          new Target(
              "wide floor", startFloor(data, false, WIDE_WINDOW_BYTES, open), "raw/floor", open);
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
    rows.add(Row.compared("server write " + mib + " MiB, " + ours.name, "MiB/s", mib / ours.write(), mib / floor.write(), 0.7, true, BASELINE_NOTE + writeNote));
    rows.add(Row.compared("server read " + mib + " MiB, " + ours.name, "MiB/s", mib / ours.read(), mib / floor.read(), 0.7, true, BASELINE_NOTE + readNote));
  }

  /**
   * Starts a bare ByteStream service on {@code data} that drops or keeps what it receives, each
   * stream with a fixed window of {@code windowBytes} as our server's, closed with the rest of
   * {@code open}, and returns its port.
   */
  private static int startFloor(byte[] data, boolean keep, int windowBytes, List<AutoCloseable> open)
      throws Exception {
    Server raw =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new RawStreamService(data, keep))
            // As our server runs ByteStream calls: on the transport thread.
            .directExecutor()
            .flowControlWindow(windowBytes)
            .build()
            .start();
    open.add(raw::shutdownNow);
    return raw.getPort();
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
      reads.add(Timed.seconds(() -> client.read(resourceName, data), TIMEOUT_SECONDS));
    }

    double write() {
      return median(writes);
    }

    double read() {
      return median(reads);
    }
  }

  /**
   * The seconds a local store's own write and read take, called directly as the server calls it
   * (1 MiB appends of bytes that never change, then publish over the previous round's blob; then
   * its chunks in order), and the seconds the file system under it takes for the bytes alone: 1
   * MiB writes to a new file with a sync every {@link #CHECKPOINT_BYTES} and at the end, and 1 MiB
   * reads of that file.
   */
  private static final class DiskShare {
    final LocalBlobStore store;
    final Path root;
    final List<Double> storeWrites = new ArrayList<>();
    final List<Double> storeReads = new ArrayList<>();
    final List<Double> fileWrites = new ArrayList<>();
    final List<Double> fileReads = new ArrayList<>();

    DiskShare(LocalBlobStore store, Path root) {
      this.store = store;
      this.root = root;
    }

    void measure(byte[] data) throws Exception {
      BlobKey key = BlobKey.of("objects/bench/direct");
      UploadSpec spec = new UploadSpec(key, "object", -1, Optional.empty(), true);
      storeWrites.add(
          Timed.seconds(
              () ->
                  store
                      .openUpload(spec)
                      .thenCompose(upload -> appendAll(upload, data, 0))
                      .thenCompose(Upload::finish),
              TIMEOUT_SECONDS));
      storeReads.add(
          Timed.seconds(
              () -> store.openReader(key, 0, 0).thenCompose(r -> drain(r, data.length)),
              TIMEOUT_SECONDS));
      fileWrites.add(fileWriteSeconds(root, data));
      fileReads.add(fileReadSeconds(root, data.length));
    }

    /** Appends {@code data} from {@code from} on in 1 MiB pieces, each after the last is taken. */
    private static CompletableFuture<Upload> appendAll(Upload upload, byte[] data, int from) {
      // A loop while appends complete at once (written behind), so no stack frame per piece.
      for (int at = from; at < data.length; at += CHUNK_BYTES) {
        CompletableFuture<Void> taken =
            upload.appendUnchanging(
                ByteBuffer.wrap(data, at, Math.min(CHUNK_BYTES, data.length - at))
                    .asReadOnlyBuffer());
        if (!taken.isDone() || taken.isCompletedExceptionally()) {
          int next = at + CHUNK_BYTES;
          return taken.thenCompose(v -> appendAll(upload, data, next));
        }
      }
      return CompletableFuture.completedFuture(upload);
    }

    /** Takes every chunk of {@code reader}, each after the last, and checks the total. */
    private static CompletableFuture<Long> drain(BlobReader reader, long expected) {
      CompletableFuture<Long> done = new CompletableFuture<>();
      takeNext(reader, 0, expected, done);
      return done.whenComplete((n, err) -> reader.close());
    }

    private static void takeNext(
        BlobReader reader, long got, long expected, CompletableFuture<Long> done) {
      reader
          .next()
          .whenComplete(
              (chunk, err) -> {
                if (err != null) {
                  done.completeExceptionally(err);
                } else if (chunk == null) {
                  if (got == expected) {
                    done.complete(got);
                  } else {
                    done.completeExceptionally(
                        new IllegalStateException("read " + got + " of " + expected + " bytes"));
                  }
                } else {
                  takeNext(reader, got + chunk.remaining(), expected, done);
                }
              });
    }

    double storeWrite() {
      return median(storeWrites);
    }

    double storeRead() {
      return median(storeReads);
    }

    double fileWrite() {
      return median(fileWrites);
    }

    double fileRead() {
      return median(fileReads);
    }
  }

  /** Seconds to read the file {@link #fileWriteSeconds} left in 1 MiB reads into the heap. */
  private static double fileReadSeconds(Path root, long size) throws Exception {
    long start = System.nanoTime();
    long got = 0;
    try (FileChannel ch = FileChannel.open(root.resolve("file-write"), StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(CHUNK_BYTES);
      int n;
      while ((n = ch.read(b.clear())) >= 0) {
        got += n;
      }
    }
    if (got != size) {
      throw new IllegalStateException("read " + got + " of " + size + " bytes");
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static double median(List<Double> seconds) {
    List<Double> sorted = seconds.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /**
   * Seconds to write {@code data} to a new file under {@code root} as the local store writes an
   * upload's bytes and publishes them: 1 MiB writes with a sync every {@link #CHECKPOINT_BYTES} and
   * at the end, then a rename over the file the previous round left, which frees its blocks.
   */
  private static double fileWriteSeconds(Path root, byte[] data) throws Exception {
    Path file = root.resolve("file-write.tmp");
    long start = System.nanoTime();
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long synced = 0;
      for (int i = 0; i < data.length; i += CHUNK_BYTES) {
        ByteBuffer b = ByteBuffer.wrap(data, i, Math.min(CHUNK_BYTES, data.length - i));
        while (b.hasRemaining()) {
          ch.write(b);
        }
        if (i + CHUNK_BYTES - synced >= CHECKPOINT_BYTES) {
          ch.force(false);
          synced = i + CHUNK_BYTES;
        }
      }
      ch.force(true);
    }
    Files.move(
        file,
        root.resolve("file-write"),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    return (System.nanoTime() - start) / 1e9;
  }

  private static void delete(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
