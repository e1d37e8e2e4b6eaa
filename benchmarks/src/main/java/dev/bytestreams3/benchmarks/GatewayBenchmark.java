package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.UnsafeByteOperations;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.gateway.GatewayRoutes;
import dev.bytestreams3.service.gateway.GatewaySettings;
import dev.bytestreams3.service.gateway.RawRoutes;
import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Moves one blob up and down through direct gRPC, the NDJSON gateway and the raw HTTP route, on
 * loopback against the local store, and prints MiB/s and the ratio to direct gRPC.
 *
 * <p>Arguments: size in MiB (default 100), rounds (default 3; the best round counts).
 */
public final class GatewayBenchmark {

  private static final int CHUNK = 1 << 20;

  private final ManagedChannel channel;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final byte[] data;

  private GatewayBenchmark(ManagedChannel channel, String base, byte[] data) {
    this.channel = channel;
    this.base = base;
    this.data = data;
  }

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    byte[] data = new byte[mib << 20];
    new Random(42).nextBytes(data);
    Path dir = Files.createTempDirectory("gateway-benchmark");
    LocalBlobStore store = new LocalBlobStore(dir, 4L << 20, 8);
    CacheServer grpc = CacheServer.start("127.0.0.1", 0, CacheServer.services(store, ConfigLoader.load(new String[0], java.util.Map.of())), List.of());
    HttpServer httpServer =
        HttpServer.start(
            "127.0.0.1", 0, Duration.ofSeconds(1),
            List.of(
                new GatewayRoutes(grpc.inProcessChannel(), grpc.definitions(), GatewaySettings.defaults()),
                new RawRoutes(grpc.inProcessChannel(), CacheServer.digestFunctions())));
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", grpc.port()).usePlaintext().maxInboundMessageSize(8 << 20).build();
    try {
      new GatewayBenchmark(channel, "http://127.0.0.1:" + httpServer.port(), data).run(mib, rounds);
    } finally {
      channel.shutdownNow();
      httpServer.stop();
      grpc.shutdown(Duration.ZERO);
      store.close();
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private interface Step {
    void run(String name) throws Exception;
  }

  private void run(int mib, int rounds) throws Exception {
    String[] paths = {"direct gRPC", "NDJSON gateway", "raw HTTP route"};
    Step[] ups = {this::grpcUp, this::ndjsonUp, this::rawUp};
    Step[] downs = {this::grpcDown, this::ndjsonDown, this::rawDown};
    double[] up = new double[3];
    double[] down = new double[3];
    for (int round = 0; round < rounds; round++) {
      for (int p = 0; p < 3; p++) {
        String name = "bench/" + p + "/" + round;
        Step u = ups[p];
        Step d = downs[p];
        up[p] = Math.max(up[p], measure(mib, () -> u.run(name)));
        down[p] = Math.max(down[p], measure(mib, () -> d.run(name)));
      }
      System.out.printf("round %d of %d done%n", round + 1, rounds);
    }
    System.out.printf("%nGateway benchmark: %d MiB each way on loopback, local store, %d CPUs, best of %d rounds%n%n",
        mib, Runtime.getRuntime().availableProcessors(), rounds);
    System.out.printf("| path | upload MiB/s | download MiB/s | upload vs gRPC | download vs gRPC |%n");
    System.out.printf("|---|---:|---:|---:|---:|%n");
    for (int p = 0; p < 3; p++) {
      System.out.printf("| %s | %.0f | %.0f | %.2fx | %.2fx |%n", paths[p], up[p], down[p], up[p] / up[0], down[p] / down[0]);
    }
  }

  private interface Timed {
    void run() throws Exception;
  }

  private static double measure(int mib, Timed t) throws Exception {
    long start = System.nanoTime();
    t.run();
    double seconds = (System.nanoTime() - start) / 1e9;
    return mib / seconds;
  }

  // ---- direct gRPC ----

  private void grpcUp(String name) throws Exception {
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    ByteStreamGrpc.newStub(channel).write(new ClientResponseObserver<WriteRequest, WriteResponse>() {
      private ClientCallStreamObserver<WriteRequest> out;
      private int offset;

      @Override
      public void beforeStart(ClientCallStreamObserver<WriteRequest> requestStream) {
        out = requestStream;
        out.setOnReadyHandler(this::pump);
      }

      private synchronized void pump() {
        while (out.isReady() && offset < data.length) {
          int n = Math.min(CHUNK, data.length - offset);
          WriteRequest.Builder w = WriteRequest.newBuilder().setWriteOffset(offset)
              .setData(UnsafeByteOperations.unsafeWrap(data, offset, n));
          if (offset == 0) {
            w.setResourceName(name);
          }
          offset += n;
          w.setFinishWrite(offset == data.length);
          out.onNext(w.build());
          if (offset == data.length) {
            out.onCompleted();
          }
        }
      }

      @Override
      public void onNext(WriteResponse r) {
        done.complete(r);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    check(done.get(5, TimeUnit.MINUTES).getCommittedSize() == data.length, "gRPC upload size");
  }

  private void grpcDown(String name) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long n = 0;
    var it = ByteStreamGrpc.newBlockingStub(channel).read(ReadRequest.newBuilder().setResourceName(name).build());
    while (it.hasNext()) {
      ReadResponse r = it.next();
      n += r.getData().size();
      md.update(r.getData().asReadOnlyByteBuffer());
    }
    verify(n, md);
  }

  // ---- NDJSON gateway ----

  private void ndjsonUp(String name) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/bytestream:write"))
            .POST(HttpRequest.BodyPublishers.ofByteArrays(() -> new NdjsonLines(name))).build(),
        HttpResponse.BodyHandlers.ofString());
    check(r.statusCode() == 200 && r.body().contains("\"" + data.length + "\""), "NDJSON upload: " + r.body());
  }

  /**
   * The body of an NDJSON upload, made as it is sent, as an efficient client makes it: each chunk
   * base64-encoded once, straight from the data, between a small head and tail.
   */
  private final class NdjsonLines implements Iterator<byte[]> {

    private final String name;
    private int offset;
    private int part;
    private int n;

    NdjsonLines(String name) {
      this.name = name;
    }

    @Override
    public boolean hasNext() {
      return offset < data.length;
    }

    @Override
    public byte[] next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      n = Math.min(CHUNK, data.length - offset);
      switch (part++) {
        case 0:
          return ascii("{" + (offset == 0 ? "\"resourceName\":\"" + name + "\"," : "")
              + "\"writeOffset\":\"" + offset + "\",\"data\":\"");
        case 1:
          return Base64.getEncoder().encode(ByteBuffer.wrap(data, offset, n)).array();
        default:
          part = 0;
          offset += n;
          return ascii("\"" + (offset == data.length ? ",\"finishWrite\":true" : "") + "}\n");
      }
    }

    private byte[] ascii(String s) {
      return s.getBytes(StandardCharsets.US_ASCII);
    }
  }

  private void ndjsonDown(String name) throws Exception {
    HttpResponse<InputStream> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/" + name + ":read")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    check(r.statusCode() == 200, "NDJSON download status " + r.statusCode());
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long n = 0;
    byte[] prefix = "{\"result\":{\"data\":\"".getBytes(StandardCharsets.US_ASCII);
    byte[] buf = new byte[4 << 20];
    int len = 0;
    int scanned = 0;
    try (InputStream in = r.body()) {
      int k;
      while ((k = in.read(buf, len, buf.length - len)) > 0) {
        len += k;
        int start = 0;
        // Only the new bytes are searched for line ends.
        for (int nl = indexOf(buf, scanned, len); nl >= 0; nl = indexOf(buf, start, len)) {
          check(Arrays.equals(buf, start, start + prefix.length, prefix, 0, prefix.length), "NDJSON line");
          ByteBuffer chunk = Base64.getDecoder().decode(ByteBuffer.wrap(buf, start + prefix.length, nl - 3 - start - prefix.length));
          n += chunk.remaining();
          md.update(chunk);
          start = nl + 1;
        }
        if (start > 0) {
          System.arraycopy(buf, start, buf, 0, len - start);
          len -= start;
        }
        scanned = len;
        if (len == buf.length) {
          buf = Arrays.copyOf(buf, buf.length * 2);
        }
      }
    }
    check(len == 0, "NDJSON stream ends inside a line");
    verify(n, md);
  }

  private static int indexOf(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  // ---- raw HTTP route ----

  private void rawUp(String name) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/raw/" + name))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build(),
        HttpResponse.BodyHandlers.ofString());
    check(r.statusCode() == 200, "raw upload: " + r.body());
  }

  private void rawDown(String name) throws Exception {
    HttpResponse<InputStream> r = http.send(
        HttpRequest.newBuilder(URI.create(base + "/raw/" + name)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    check(r.statusCode() == 200, "raw download status " + r.statusCode());
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long n = 0;
    byte[] buf = new byte[1 << 16];
    try (InputStream in = r.body()) {
      int k;
      while ((k = in.read(buf)) > 0) {
        n += k;
        md.update(buf, 0, k);
      }
    }
    verify(n, md);
  }

  private byte[] expected;

  private void verify(long n, MessageDigest md) throws Exception {
    if (expected == null) {
      expected = MessageDigest.getInstance("SHA-256").digest(data);
    }
    check(n == data.length, "downloaded " + n + " bytes (expected: " + data.length + ")");
    check(Arrays.equals(md.digest(), expected), "downloaded bytes differ from the uploaded ones");
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("benchmark check failed: " + what);
    }
  }
}
