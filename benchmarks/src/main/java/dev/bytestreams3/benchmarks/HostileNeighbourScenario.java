package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An honest client's throughput with a hostile one beside it, in a server JVM of its own at the
 * server's defaults: writes of {@code --flood-mib} (64 MiB) read back, alone and then while
 * another client keeps 200 {@code Write}s open without sending a message and 10 {@code Read}s of
 * such a blob that take one message and then nothing. Bounded: three rounds of each after one
 * warm-up, under a minute on loopback against S3Mock.
 */
final class HostileNeighbourScenario {

  private static final double MIB = 1024.0 * 1024;
  private static final int ROUNDS = 3;
  private static final int SILENT_WRITES = 200;
  private static final int STALLED_READS = 10;

  private final URI endpoint;
  private final String bucket;
  private final int blobMib;
  private final List<Row> rows = new ArrayList<>();

  HostileNeighbourScenario(URI endpoint, String bucket, int blobMib) {
    this.endpoint = endpoint;
    this.bucket = bucket;
    this.blobMib = blobMib;
  }

  List<Row> rows() {
    return rows;
  }

  void run() throws Exception {
    byte[] blob = new Blobs(17).random(blobMib << 20);
    try (ChildServer server = ChildServer.start("1g", endpoint, bucket)) {
      ManagedChannel honestChannel = channel(server.port);
      ManagedChannel hostileChannel = channel(server.port);
      try {
        ByteStreamClient honest = new ByteStreamClient(honestChannel);
        // One round first, so that what a first call sets up once is not counted.
        rate(honest, blob, "warm-up", 1);
        double alone = rate(honest, blob, "alone", ROUNDS);

        List<ClientCallStreamObserver<?>> hostile = new ArrayList<>();
        ByteStreamGrpc.ByteStreamStub stub = ByteStreamGrpc.newStub(hostileChannel);
        for (int i = 0; i < SILENT_WRITES; i++) {
          stub.write(
              new ClientResponseObserver<WriteRequest, WriteResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
                  hostile.add(call);
                }

                @Override
                public void onNext(WriteResponse value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
              });
        }
        for (int i = 0; i < STALLED_READS; i++) {
          stub.read(
              ReadRequest.newBuilder().setResourceName("bench/hostile/warm-up-0").build(),
              new ClientResponseObserver<ReadRequest, ReadResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<ReadRequest> call) {
                  call.disableAutoRequestWithInitial(1);
                  hostile.add(call);
                }

                @Override
                public void onNext(ReadResponse value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
              });
        }
        // Let the hostile calls take what they can before the honest client starts again.
        Thread.sleep(500);
        double beside = rate(honest, blob, "beside", ROUNDS);
        hostile.forEach(c -> c.cancel("measured", null));
        rows.add(
            Row.compared(
                "honest " + blobMib + " MiB writes + reads beside " + SILENT_WRITES + " silent Writes and "
                    + STALLED_READS + " stalled Reads (server defaults, -Xmx1g)",
                "MiB/s", beside, alone, 0.8, true,
                String.format(
                    "%d rounds of a %d MiB write and read back, alone %.0f MiB/s, beside the hostile"
                        + " client %.0f MiB/s (%.2f×)",
                    ROUNDS, blobMib, alone, beside, beside / alone)));
      } finally {
        hostileChannel.shutdownNow();
        honestChannel.shutdownNow();
      }
    }
  }

  /** MiB/s of {@code rounds} writes of {@code blob} each read back, one after another. */
  private static double rate(ByteStreamClient client, byte[] blob, String phase, int rounds)
      throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < rounds; i++) {
      String name = "bench/hostile/" + phase + "-" + i;
      long written = client.write(name, blob, 1 << 20).get(60, TimeUnit.SECONDS);
      if (written != blob.length) {
        throw new IllegalStateException(name + ": committed " + written + " of " + blob.length);
      }
      client.read(name, blob).get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return 2.0 * rounds * blob.length / MIB / seconds;
  }

  private static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .usePlaintext()
        .maxInboundMessageSize(8 << 20)
        .build();
  }
}
