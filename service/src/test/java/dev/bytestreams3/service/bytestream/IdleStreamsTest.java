package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streams that keep the server waiting are ended, return what they hold, and block no one. */
class IdleStreamsTest {

  private static final int MAX_MESSAGE = 64 * 1024;
  private static final Duration IDLE = Duration.ofMillis(300);

  @TempDir Path dir;

  private final MemoryBudget budget = new MemoryBudget(16L << 20, 4L << 20);
  // Room for four first messages: four silent streams would hold it all for good.
  private final OpeningMessages opening = new OpeningMessages(4 * MAX_MESSAGE, MAX_MESSAGE);
  private final IdleLimits idle = new IdleLimits(IDLE, IDLE);
  private LocalBlobStore store;
  private Server server;
  private String serverName;
  private ManagedChannel channel;
  private final List<StreamObserver<WriteRequest>> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1L << 20, 4, budget);
    ByteStreamService service =
        new ByteStreamService(
            store,
            new ResourceNameParser(CacheServer.digestFunctions(), new Instances(Optional.empty())),
            new KeyLayout(), true, new CasLimits(4 << 20, 0),
            opening, idle);
    serverName = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(serverName).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(serverName).build();
  }

  @AfterEach
  void stop() {
    for (StreamObserver<WriteRequest> o : open) {
      try {
        o.onError(new IllegalStateException("test over"));
      } catch (RuntimeException ignored) {
        // Already ended.
      }
    }
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  @Test
  void silentWrites_areEndedAfterTheIdleTime_andAnotherConnectionsWriteGetsTheNextTurn()
      throws Exception {
    List<CompletableFuture<WriteResponse>> silent = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
      open.add(ByteStreamGrpc.newStub(channel).write(observer(answer)));
      silent.add(answer);
    }
    // One connection may hold at most half of the room: two of four largest messages.
    waitUntil(() -> opening.usedBytes() == 2L * MAX_MESSAGE && opening.waiting() == 38);

    ManagedChannel other = InProcessChannelBuilder.forName(serverName).build();
    try {
      byte[] data = randomBytes(1000, 1);
      long startNanos = System.nanoTime();
      WriteResponse honest = new ByteStreamClient(other).writeAll(upload(data), data);
      assertThat(honest.getCommittedSize()).isEqualTo(data.length);
      // Thirty-eight silent streams queued ahead of it, but on another connection, which holds
      // only its half of the room: this one is granted the other half at once.
      assertThat(Duration.ofNanos(System.nanoTime() - startNanos)).isLessThan(Duration.ofMillis(250));
    } finally {
      other.shutdownNow();
    }

    int idleEnded = 0;
    for (CompletableFuture<WriteResponse> s : silent) {
      Status status =
          Status.fromThrowable(
              org.assertj.core.api.Assertions.catchThrowable(() -> s.get(10, TimeUnit.SECONDS))
                  .getCause());
      if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
        idleEnded++;
        assertThat(status.getDescription())
            .isEqualTo("the Write sent no message for 300 ms; the server ends streams idle that long");
      } else {
        // Those whose turn never came were not idle: the server had no room for them.
        assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(status.getDescription())
            .isEqualTo(
                "the server had no room for this Write's first message for 600 ms; other"
                    + " Writes of this connection hold it and send nothing, retry later");
      }
    }
    // The first two were asked and ended; each that is ended lets the next in line be asked.
    assertThat(idleEnded).isGreaterThanOrEqualTo(2);
    waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0 && opening.waiting() == 0);
    assertThat(idle.endedTotal()).isEqualTo(idleEnded);
    assertThat(idle.turnedAwayTotal()).isEqualTo(40 - idleEnded);
  }

  @Test
  void writesWaitingForTheStore_keepTheirConnectionsQueueWaiting_withoutTurningItAway()
      throws Exception {
    // The same service over a store that opens no upload until it is let go: every Write that
    // sent its first message holds it meanwhile, as uploads do while S3 or the budget is busy.
    CompletableFuture<Void> letGo = new CompletableFuture<>();
    ByteStreamService busy =
        new ByteStreamService(
            new BusyStore(store, letGo),
            new ResourceNameParser(CacheServer.digestFunctions(), new Instances(Optional.empty())),
            new KeyLayout(), true, new CasLimits(4 << 20, 0), opening, idle);
    String name = InProcessServerBuilder.generateName();
    Server busyServer = InProcessServerBuilder.forName(name).addService(busy).build().start();
    ManagedChannel busyChannel = InProcessChannelBuilder.forName(name).build();
    try {
      List<byte[]> blobs = new ArrayList<>();
      List<CompletableFuture<WriteResponse>> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        byte[] data = randomBytes(60 * 1024, 10 + i);
        CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
        StreamObserver<WriteRequest> requests =
            ByteStreamGrpc.newStub(busyChannel).write(observer(answer));
        requests.onNext(
            WriteRequest.newBuilder()
                .setResourceName(upload(data))
                .setData(com.google.protobuf.ByteString.copyFrom(data))
                .setFinishWrite(true)
                .build());
        requests.onCompleted();
        blobs.add(data);
        answers.add(answer);
      }
      // Two first messages of 60 KiB fill this connection's half of the room; four Writes queue.
      waitUntil(() -> opening.waiting() == 4);
      // Far past twice the first-message timeout: still waiting, none turned away.
      Thread.sleep(IDLE.multipliedBy(5).toMillis());
      assertThat(answers).noneMatch(CompletableFuture::isDone);
      assertThat(opening.waiting()).isEqualTo(4);
      assertThat(idle.turnedAwayTotal()).isZero();

      letGo.complete(null);
      for (int i = 0; i < answers.size(); i++) {
        assertThat(answers.get(i).get(10, TimeUnit.SECONDS).getCommittedSize())
            .isEqualTo(blobs.get(i).length);
      }
      assertThat(idle.turnedAwayTotal()).isZero();
      assertThat(idle.endedTotal()).isZero();
      waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0);
    } finally {
      busyChannel.shutdownNow();
      busyServer.shutdownNow();
    }
  }

  /** A real store that opens uploads only once {@code letGo} completes. */
  private static final class BusyStore extends dev.bytestreams3.storage.ForwardingStore {
    private final CompletableFuture<Void> letGo;

    BusyStore(dev.bytestreams3.storage.BlobStore inner, CompletableFuture<Void> letGo) {
      super(inner);
      this.letGo = letGo;
    }

    @Override
    public CompletableFuture<dev.bytestreams3.storage.Upload> openUpload(
        dev.bytestreams3.storage.UploadSpec spec) {
      return letGo.thenCompose(v -> super.openUpload(spec));
    }
  }

  @Test
  void writeSendingOnlyEmptyMessages_isEndedAfterTheIdleTime_andReturnsWhatItHeld()
      throws Exception {
    byte[] data = randomBytes(100_000, 4);
    String resource = upload(data);
    CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
    CompletableFuture<ClientCallStreamObserver<WriteRequest>> started = new CompletableFuture<>();
    ByteStreamGrpc.newStub(channel)
        .write(
            new ClientResponseObserver<WriteRequest, WriteResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
                started.complete(call);
              }

              @Override
              public void onNext(WriteResponse value) {
                answer.complete(value);
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
    ClientCallStreamObserver<WriteRequest> requests = started.join();
    open.add(requests);
    requests.onNext(
        WriteRequest.newBuilder()
            .setResourceName(resource)
            .setData(ByteString.copyFrom(data, 0, 1000))
            .build());
    long startNanos = System.nanoTime();
    long sent = 0;
    // Messages carrying nothing, as fast as the server takes them, for far longer than the idle time.
    while (!answer.isDone() && System.nanoTime() - startNanos < TimeUnit.SECONDS.toNanos(10)) {
      if (requests.isReady()) {
        requests.onNext(WriteRequest.newBuilder().setWriteOffset(1000).build());
        sent++;
      } else {
        Thread.sleep(1);
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
    assertThat(answer)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableThat()
        .satisfies(
            t -> {
              Status status = Status.fromThrowable(t);
              assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
              assertThat(status.getDescription())
                  .isEqualTo(
                      "the Write sent only empty messages for 300 ms; the server ends streams"
                          + " idle that long");
            });
    assertThat(sent).isGreaterThan(10);
    assertThat(took).isBetween(IDLE, Duration.ofSeconds(3));
    assertThat(idle.endedTotal()).isEqualTo(1);
    waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0);

    // What it stored stays: the client resumes and finishes.
    ByteStreamClient client = new ByteStreamClient(channel);
    long committed = client.status(resource).getCommittedSize();
    assertThat(
            client
                .write(ByteStreamClient.chunks(resource, data, (int) committed, 64 * 1024, true))
                .getCommittedSize())
        .isEqualTo(data.length);
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void writeWhoseStoreTakesLongToFinish_isNotEndedAsIdle_afterTheClientHalfCloses()
      throws Exception {
    // The same service over a store whose uploads take three idle times to finish.
    ByteStreamService slow =
        new ByteStreamService(
            new SlowFinishStore(store, IDLE.multipliedBy(3)),
            new ResourceNameParser(CacheServer.digestFunctions(), new Instances(Optional.empty())),
            new KeyLayout(), true, new CasLimits(4 << 20, 0), opening, idle);
    String name = InProcessServerBuilder.generateName();
    Server slowServer = InProcessServerBuilder.forName(name).addService(slow).build().start();
    ManagedChannel slowChannel = InProcessChannelBuilder.forName(name).build();
    try {
      byte[] data = randomBytes(300_000, 5);
      WriteResponse written =
          new ByteStreamClient(slowChannel)
              .write(ByteStreamClient.chunks(upload(data), data, 0, 64 * 1024, true));
      assertThat(written.getCommittedSize()).isEqualTo(data.length);
      assertThat(idle.endedTotal()).isZero();
      assertThat(new ByteStreamClient(slowChannel).read("blobs/" + sha256(data) + "/" + data.length, 0, 0))
          .isEqualTo(data);
    } finally {
      slowChannel.shutdownNow();
      slowServer.shutdownNow();
    }
  }

  /** A real store whose uploads finish only {@code delay} after they are asked to. */
  private static final class SlowFinishStore extends dev.bytestreams3.storage.ForwardingStore {
    private final Duration delay;

    SlowFinishStore(dev.bytestreams3.storage.BlobStore inner, Duration delay) {
      super(inner);
      this.delay = delay;
    }

    @Override
    public CompletableFuture<dev.bytestreams3.storage.Upload> openUpload(
        dev.bytestreams3.storage.UploadSpec spec) {
      return super.openUpload(spec).thenApply(u -> new SlowFinish(u, delay));
    }
  }

  private record SlowFinish(dev.bytestreams3.storage.Upload inner, Duration delay)
      implements dev.bytestreams3.storage.Upload {
    @Override
    public long committedSize() {
      return inner.committedSize();
    }

    @Override
    public long position() {
      return inner.position();
    }

    @Override
    public CompletableFuture<Void> append(java.nio.ByteBuffer data) {
      return inner.append(data);
    }

    @Override
    public CompletableFuture<Long> finish() {
      return CompletableFuture.runAsync(
              () -> {},
              CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS))
          .thenCompose(v -> inner.finish());
    }

    @Override
    public CompletableFuture<Long> suspend() {
      return inner.suspend();
    }

    @Override
    public void detach() {
      inner.detach();
    }

    @Override
    public CompletableFuture<Void> abort() {
      return inner.abort();
    }
  }

  @Test
  void writeThatStopsSending_isEndedAndReturnsItsBuffers_andCanResume() throws Exception {
    byte[] data = randomBytes(3 << 20, 2);
    String resource = upload(data);
    CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(channel).write(observer(answer));
    open.add(requests);
    requests.onNext(
        WriteRequest.newBuilder()
            .setResourceName(resource)
            .setData(ByteString.copyFrom(data, 0, 1 << 20))
            .build());
    assertThat(answer)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableThat()
        .satisfies(
            t ->
                assertThat(Status.fromThrowable(t).getDescription())
                    .isEqualTo(
                        "the Write sent no further message for 300 ms; the server ends streams"
                            + " idle that long"));
    waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0);

    ByteStreamClient client = new ByteStreamClient(channel);
    long committed = client.status(resource).getCommittedSize();
    assertThat(committed).isBetween(0L, (long) (1 << 20));
    assertThat(
            client
                .write(ByteStreamClient.chunks(resource, data, (int) committed, 64 * 1024, true))
                .getCommittedSize())
        .isEqualTo(data.length);
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void readWhoseClientTakesNothing_isEnded_andReturnsItsReadAhead() throws Exception {
    byte[] data = randomBytes(5 << 20, 3);
    ByteStreamClient client = new ByteStreamClient(channel);
    client.writeAll(upload(data), data);
    waitUntil(() -> budget.usedBytes() == 0);

    CompletableFuture<Status> ended = new CompletableFuture<>();
    CompletableFuture<ClientCallStreamObserver<ReadRequest>> started = new CompletableFuture<>();
    ByteStreamGrpc.newStub(channel)
        .read(
            ReadRequest.newBuilder()
                .setResourceName("blobs/" + sha256(data) + "/" + data.length)
                .build(),
            new ClientResponseObserver<ReadRequest, ReadResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<ReadRequest> call) {
                // One message, then nothing more: a client that stopped reading.
                call.disableAutoRequestWithInitial(1);
                started.complete(call);
              }

              @Override
              public void onNext(ReadResponse value) {}

              @Override
              public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                ended.complete(Status.OK);
              }
            });
    waitUntil(() -> idle.endedTotal() == 1);
    waitUntil(() -> budget.usedBytes() == 0);
    // The status waits behind the messages the client has not taken; taking them delivers it.
    started.join().request(Integer.MAX_VALUE);
    Status status = ended.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(status.getDescription())
        .isEqualTo("the client read nothing for 300 ms; the server ends streams idle that long");

    // A client that keeps reading is not cut, however long the whole read takes.
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
    assertThat(idle.endedTotal()).isEqualTo(1);
  }

  private static String upload(byte[] data) {
    return "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
  }

  private static StreamObserver<WriteResponse> observer(CompletableFuture<WriteResponse> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(WriteResponse value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  private static void waitUntil(BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached within 10 s");
      }
      Thread.sleep(5);
    }
  }
}
