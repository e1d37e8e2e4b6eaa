package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory under load, measured in a server JVM of its own: many large uploads at once under a
 * small heap, and one slow reader of a large object.
 */
final class MemoryScenarios {

  private static final double MIB = 1024.0 * 1024;
  private static final String FLOOD_HEAP = "512m";
  private static final long FLOOD_HEAP_BYTES = 512L << 20;
  private static final long HEADROOM_BYTES = 128L << 20;

  private final BenchmarkOptions options;
  private final URI endpoint;
  private final String bucket;
  private final S3Baseline sdk;
  private final long readAheadBytes;
  private final List<Row> rows = new ArrayList<>();

  MemoryScenarios(BenchmarkOptions options, URI endpoint, String bucket, S3Baseline sdk, long readAheadBytes) {
    this.options = options;
    this.endpoint = endpoint;
    this.bucket = bucket;
    this.sdk = sdk;
    this.readAheadBytes = readAheadBytes;
  }

  List<Row> rows() {
    return rows;
  }

  void runAll() throws Exception {
    flood();
    slowReader();
  }

  private void flood() throws Exception {
    int n = options.floodCount();
    RepeatedBytes blob = new RepeatedBytes(new Blobs(3).random(1 << 20), (long) options.floodMib() << 20);
    try (ChildServer server = ChildServer.start(FLOOD_HEAP, endpoint, bucket)) {
      ManagedChannel channel = channel(server.port);
      try {
        ByteStreamClient client = new ByteStreamClient(channel);
        long start = System.nanoTime();
        List<CompletableFuture<Long>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          all.add(client.write("bench/flood/" + i, blob, 1 << 20));
        }
        // The live heap, measured by a full collection every two seconds while the uploads run:
        // heap "after GC" as collections report it also counts garbage a young collection left
        // in the old generation.
        long peakLive = 0;
        CompletableFuture<Void> allDone = CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
        while (!allDone.isDone() && server.alive()) {
          try {
            allDone.get(2, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException e) {
            try {
              peakLive = Math.max(peakLive, server.live()[0]);
            } catch (IOException gone) {
              break;
            }
          } catch (Exception e) {
            break;
          }
        }
        if (peakLive == 0 && server.alive()) {
          // Done within the first two seconds: the heap right after is the only sample.
          peakLive = server.live()[0];
        }
        int ok = 0;
        String firstError = "";
        for (CompletableFuture<Long> f : all) {
          try {
            if (f.get(1800, TimeUnit.SECONDS) == blob.size()) {
              ok++;
            }
          } catch (Exception e) {
            if (firstError.isEmpty()) {
              firstError = "; first failure: " + e.getMessage();
            }
          }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] peak;
        try {
          peak = server.peak();
        } catch (IOException e) {
          rows.add(
              new Row(
                  n + " concurrent " + options.floodMib() + " MiB uploads, -Xmx" + FLOOD_HEAP,
                  "MiB heap", FLOOD_HEAP_BYTES / MIB, (server.budgetBytes + HEADROOM_BYTES) / MIB,
                  "all complete, peak ≤ budget + 128 MiB", false,
                  ok + "/" + n + " complete; " + e.getMessage() + firstError));
          return;
        }
        boolean alive = server.alive();
        long limit = server.budgetBytes + HEADROOM_BYTES;
        rows.add(
            new Row(
                n + " concurrent " + options.floodMib() + " MiB uploads, -Xmx" + FLOOD_HEAP,
                "MiB live heap",
                peakLive / MIB,
                limit / MIB,
                "all complete, peak ≤ budget + 128 MiB",
                ok == n && alive && peakLive > 0 && peakLive <= limit,
                ok + "/" + n + " complete in " + String.format("%.1f", seconds) + " s ("
                    + String.format("%.0f", n * (double) blob.size() / MIB / seconds)
                    + " MiB/s); peak live heap (full collection every 2 s) "
                    + String.format("%.0f", peakLive / MIB) + " MiB; most heap any collection left, garbage included, "
                    + String.format("%.0f", peak[0] / MIB) + " MiB; budget " + (server.budgetBytes >> 20)
                    + " MiB, its peak " + (peak[1] >> 20) + " MiB" + firstError));
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private void slowReader() throws Exception {
    long size = (long) options.slowObjectMib() << 20;
    RepeatedBytes object = new RepeatedBytes(new Blobs(5).random(1 << 20), size);
    // Put straight into the bucket where the server keeps plain objects.
    sdk.multipartUpload("objects/bench/slow", object).get(1800, TimeUnit.SECONDS);
    long rate = (long) options.slowRateKib() << 10;
    try (ChildServer server = ChildServer.start("1g", endpoint, bucket)) {
      ManagedChannel channel = channel(server.port);
      ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
      try {
        // One short read first, so that what any first read sets up once (the S3 client's
        // connection and buffer pools, classes, the gRPC call path) is not counted as growth.
        ByteStreamGrpc.newBlockingStub(channel)
            .read(
                ReadRequest.newBuilder()
                    .setResourceName("bench/slow")
                    .setReadLimit(1 << 20)
                    .build())
            .forEachRemaining(r -> {});
        long before = server.live()[0];
        AtomicLong received = new AtomicLong();
        ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
        ByteStreamGrpc.newStub(channel)
            .read(
                ReadRequest.newBuilder().setResourceName("bench/slow").build(),
                new ClientResponseObserver<ReadRequest, ReadResponse>() {
                  @Override
                  public void beforeStart(ClientCallStreamObserver<ReadRequest> c) {
                    call[0] = c;
                    c.disableAutoRequestWithInitial(1);
                  }

                  @Override
                  public void onNext(ReadResponse r) {
                    received.addAndGet(r.getData().size());
                    long delayNanos = r.getData().size() * 1_000_000_000L / rate;
                    pacer.schedule(() -> call[0].request(1), delayNanos, TimeUnit.NANOSECONDS);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
        Thread.sleep(options.slowSeconds() * 1000L);
        long[] during = server.live();
        call[0].cancel("measured", null);
        long growth = Math.max(0, during[0] - before);
        rows.add(
            new Row(
                "slow reader (" + options.slowRateKib() + " KiB/s) of a " + options.slowObjectMib() + " MiB object, "
                    + options.slowSeconds() + " s",
                "MiB growth",
                growth / MIB,
                readAheadBytes / MIB,
                "growth ≤ read-ahead budget",
                growth <= readAheadBytes,
                "read " + received.get() / (1 << 20) + " MiB; live heap after a 1 MiB warm-up read "
                    + (before >> 20) + " → "
                    + (during[0] >> 20) + " MiB; budget lent out " + (during[1] >> 20) + " MiB"));
      } finally {
        pacer.shutdownNow();
        channel.shutdownNow();
      }
    }
  }

  private static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .usePlaintext()
        .maxInboundMessageSize(8 << 20)
        .build();
  }
}
