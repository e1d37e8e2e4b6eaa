package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.github.luben.zstd.Zstd;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server process at a 160 MiB heap that exits on OutOfMemoryError, on the embedded S3 server,
 * under every hostile kind of call at once while an honest client keeps writing and reading back
 * blobs: each hostile call gets a precise status, every honest call succeeds within its deadline
 * with the right bytes, and the process stays up.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AdversarialLoadOverS3Test {

  private static final String INSTANCE = "adversarial";
  private static final String PREFIX = "adversarial-" + UUID.randomUUID() + "/";
  private static final int LARGE_BLOB_BYTES = 16 << 20;
  /**
   * How long one honest call may take, however busy the server is with hostile ones: the hostile
   * clients share the server's two cores here, and a call can wait behind one round of idle
   * streams (4 s each) for memory.
   */
  private static final Duration HONEST_DEADLINE = Duration.ofSeconds(40);
  /**
   * The idle limits the server runs with: short, so that the suite ends soon, yet long enough
   * that an honest client starved of CPU by the hostile ones beside it is not taken for idle.
   */
  private static final String IDLE_WORDS = "4 s; the server ends streams idle that long";

  private static S3Server s3;
  private static ServerProcess server;
  private static ManagedChannel channel;
  private static ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;
  private static byte[] large;
  private static Digest deep;
  private static Digest self;
  private static final List<AutoCloseable> closing = Collections.synchronizedList(new ArrayList<>());

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=" + PREFIX);
    args.add("--memory-budget-bytes=" + (40 << 20));
    args.add("--write-first-message-timeout-seconds=4");
    args.add("--stream-idle-timeout-seconds=4");
    // Reads use the default 8 MiB segments: a Read whose client takes nothing, started while the
    // budget is contended, holds one small segment until its idle timeout, not a whole one.
    server = ServerProcess.start(List.of("-Xmx160m", "-XX:+ExitOnOutOfMemoryError"), args);
    channel = channel();
    cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
    large = Streams.randomBytes(LARGE_BLOB_BYTES, 1);
    try (Streams setup = new Streams(server.target())) {
      assertThat(setup.writeAll(Streams.uploadName(INSTANCE, large), large).getCommittedSize())
          .isEqualTo(large.length);
    }
    deep = storeChain(2000);
    self = storeSelfReferencing();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static ManagedChannel channel() {
    // A fixed 1 MiB window, as a slow reader keeps it: with the window tuned up to what the
    // connection carries, a reader that takes one message can still receive a whole 16 MiB blob
    // into its transport's buffers, and its call ends OK instead of idle.
    ManagedChannel c =
        NettyChannelBuilder.forTarget(server.target())
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .initialFlowControlWindow(1 << 20)
            .build();
    closing.add(c::shutdownNow);
    return c;
  }

  @Test
  void hostileCallsAtOnce_eachGetAPreciseStatus_whileHonestCallsSucceedInTime() throws Exception {
    hostileCallsAtOnce(8);
  }

  /**
   * Two hundred silent Writes on one connection: room for first messages (a quarter of the memory
   * budget, one largest message per Write) is granted connection by connection, so an honest
   * Write waits for at most one silent one to be ended, and silent ones still queued after twice
   * the first-message timeout are turned away.
   */
  @Test
  void twoHundredSilentWrites_doNotKeepAnHonestWriteWaiting() throws Exception {
    hostileCallsAtOnce(200);
  }

  private void hostileCallsAtOnce(int silentWrites) throws Exception {
    HonestClient honest = new HonestClient();
    ExecutorService pool = Executors.newCachedThreadPool();
    closing.add(pool::shutdownNow);
    Future<?> honestRun = pool.submit(honest);
    List<Future<String>> hostile = new ArrayList<>();
    for (Callable<String> c :
        List.<Callable<String>>of(
            AdversarialLoadOverS3Test::zstdSizesThatLie,
            () -> smallSizesForALargeBlob(large),
            () -> silentWrites(silentWrites),
            () -> slowReads(large),
            AdversarialLoadOverS3Test::writesBeyondFiveTebibytes,
            AdversarialLoadOverS3Test::floodOfEmptyWriteRequests,
            () -> deepTree(deep),
            () -> selfReferencingTree(self))) {
      hostile.add(pool.submit(c));
    }
    long start = System.nanoTime();
    for (Future<String> f : hostile) {
      System.out.println("hostile: " + f.get(120, TimeUnit.SECONDS));
    }
    System.out.println("hostile calls all answered after " + millisSince(start) + " ms");
    honest.stop.set(true);
    honestRun.get(60, TimeUnit.SECONDS);
    pool.shutdown();

    List<Long> latencies = new ArrayList<>(honest.latenciesMillis);
    Collections.sort(latencies);
    System.out.println(
        "honest calls: " + latencies.size() + ", median " + latencies.get(latencies.size() / 2)
            + " ms, max " + latencies.get(latencies.size() - 1) + " ms");
    assertThat(latencies).hasSizeGreaterThanOrEqualTo(8);
    assertThat(latencies.get(latencies.size() - 1)).isLessThan(HONEST_DEADLINE.toMillis());
    assertThat(server.isAlive()).isTrue();
    assertThat(server.log()).noneMatch(l -> l.contains("OutOfMemoryError"));
  }

  /** Writes a 1 KiB and a 6 MiB blob and reads each back, over and over, until stopped. */
  private static final class HonestClient implements Callable<Void> {
    final AtomicBoolean stop = new AtomicBoolean();
    final List<Long> latenciesMillis = Collections.synchronizedList(new ArrayList<>());

    @Override
    public Void call() throws Exception {
      // Its own thread for reads, not the common pool, which is one thread on two cores.
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try (Streams streams = new Streams(server.target())) {
        long seed = 100;
        // At least a few rounds, however quickly the hostile calls are answered.
        for (int round = 0; round < 4 || !stop.get(); round++) {
          for (int size : new int[] {1024, 6 << 20}) {
            byte[] data = Streams.randomBytes(size, seed++);
            long start = System.nanoTime();
            WriteResponse written =
                inTime(
                    "Write " + size,
                    streams
                        .write(Streams.uploadName(INSTANCE, data), data, 0, data.length, 64 * 1024, true, true, 0)
                        .response);
            assertThat(written.getCommittedSize()).isEqualTo(size);
            record("Write " + size, start);
            start = System.nanoTime();
            byte[] read =
                inTime(
                    "Read " + size,
                    CompletableFuture.supplyAsync(
                        () -> streams.read(Streams.blobName(INSTANCE, data), 0, 0), pool));
            assertThat(read).isEqualTo(data);
            record("Read " + size, start);
          }
        }
      } finally {
        pool.shutdownNow();
      }
      return null;
    }

    /** The call's answer, or a failure naming the call when it takes longer than the deadline. */
    private static <T> T inTime(String call, java.util.concurrent.Future<T> answer) throws Exception {
      try {
        return answer.get(HONEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError(
            "honest " + call + " had no answer within " + HONEST_DEADLINE.toSeconds() + " s", e);
      }
    }

    private void record(String call, long startNanos) {
      long millis = millisSince(startNanos);
      latenciesMillis.add(millis);
      if (millis >= 1000) {
        System.out.println("honest " + call + " took " + millis + " ms");
      }
    }
  }

  private static String zstdSizesThatLie() {
    byte[] kilobyte = new byte[1024];
    byte[] zeros = new byte[32 << 20];
    String result = "";
    for (int i = 0; i < 8; i++) {
      BatchUpdateBlobsResponse r =
          cas.batchUpdateBlobs(
              BatchUpdateBlobsRequest.newBuilder()
                  .setInstanceName(INSTANCE)
                  .addRequests(
                      BatchUpdateBlobsRequest.Request.newBuilder()
                          .setDigest(
                              Digest.newBuilder()
                                  .setHash(Streams.sha256(kilobyte, 0, kilobyte.length))
                                  .setSizeBytes(4 << 20))
                          .setCompressor(Compressor.Value.ZSTD)
                          .setData(ByteString.copyFrom(Zstd.compress(kilobyte))))
                  .build());
      assertThat(r.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
      assertThat(r.getResponses(0).getStatus().getMessage())
          .isEqualTo("compressed data holds 1024 bytes (expected: 4194304, the digest's size)");
      r =
          cas.batchUpdateBlobs(
              BatchUpdateBlobsRequest.newBuilder()
                  .setInstanceName(INSTANCE)
                  .addRequests(
                      BatchUpdateBlobsRequest.Request.newBuilder()
                          .setDigest(
                              Digest.newBuilder()
                                  .setHash(Streams.sha256(zeros, 0, zeros.length))
                                  .setSizeBytes(1 << 20))
                          .setCompressor(Compressor.Value.ZSTD)
                          .setData(ByteString.copyFrom(Zstd.compress(zeros))))
                  .build());
      assertThat(r.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
      assertThat(r.getResponses(0).getStatus().getMessage())
          .isEqualTo("compressed data holds more than the digest's 1048576 bytes");
      result = "zstd lying sizes: INVALID_ARGUMENT '" + r.getResponses(0).getStatus().getMessage() + "'";
    }
    // A declared size beyond the batch limit is refused before anything is decoded.
    StatusRuntimeException huge =
        refusal(
            () ->
                cas.batchUpdateBlobs(
                    BatchUpdateBlobsRequest.newBuilder()
                        .setInstanceName(INSTANCE)
                        .addRequests(
                            BatchUpdateBlobsRequest.Request.newBuilder()
                                .setDigest(
                                    Digest.newBuilder()
                                        .setHash(Streams.sha256(kilobyte, 0, kilobyte.length))
                                        .setSizeBytes(1L << 40))
                                .setCompressor(Compressor.Value.ZSTD)
                                .setData(ByteString.copyFrom(Zstd.compress(kilobyte))))
                        .build()));
    assertThat(huge.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(huge.getStatus().getDescription())
        .contains("carries 1099511627776 blob bytes (expected: <= max_batch_total_size_bytes 4194304)");
    return result + "; 1 TiB declared: INVALID_ARGUMENT '" + huge.getStatus().getDescription() + "'";
  }

  private static String smallSizesForALargeBlob(byte[] large) {
    Digest lie =
        Digest.newBuilder().setHash(Streams.sha256(large, 0, large.length)).setSizeBytes(1).build();
    BatchReadBlobsRequest.Builder read = BatchReadBlobsRequest.newBuilder().setInstanceName(INSTANCE);
    for (int i = 0; i < 8; i++) {
      read.addDigests(lie);
    }
    String message = "";
    for (int call = 0; call < 8; call++) {
      for (BatchReadBlobsResponse.Response e : cas.batchReadBlobs(read.build()).getResponsesList()) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(e.getStatus().getMessage())
            .isEqualTo("blob " + lie.getHash() + " has more than 1 bytes (expected: 1, the requested size)");
        message = e.getStatus().getMessage();
      }
    }
    StatusRuntimeException absent =
        refusal(() -> cas.getTree(GetTreeRequest.newBuilder().setInstanceName(INSTANCE).setRootDigest(lie).build()).next());
    assertThat(absent.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(absent.getStatus().getDescription())
        .isEqualTo("root directory sha256:" + lie.getHash() + "/1 is not in the CAS");
    Digest real = lie.toBuilder().setSizeBytes(large.length).build();
    StatusRuntimeException tooLarge =
        refusal(() -> cas.getTree(GetTreeRequest.newBuilder().setInstanceName(INSTANCE).setRootDigest(real).build()).next());
    assertThat(tooLarge.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(tooLarge.getStatus().getDescription())
        .isEqualTo(
            "directory sha256:" + lie.getHash() + "/" + large.length + " is " + large.length
                + " bytes (expected: <= 3145728, the largest directory GetTree reads)");
    return "BatchRead size 1: INVALID_ARGUMENT '" + message + "'; GetTree size 1: NOT_FOUND; GetTree"
        + " 16 MiB: INVALID_ARGUMENT '" + tooLarge.getStatus().getDescription() + "'";
  }

  private static String silentWrites(int count) throws Exception {
    ManagedChannel c = channel();
    List<CompletableFuture<WriteResponse>> answers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
      ByteStreamGrpc.newStub(c).write(Answers.into(answer));
      answers.add(answer);
    }
    int idle = 0;
    String noRoom =
        "the server had no room for this Write's first message for 8 s; other Writes of this"
            + " connection hold it and send nothing, retry later";
    for (CompletableFuture<WriteResponse> a : answers) {
      Status s = failure(a);
      if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
        idle++;
        assertThat(s.getDescription()).isEqualTo("the Write sent no message for " + IDLE_WORDS);
      } else {
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).isEqualTo(noRoom);
      }
    }
    assertThat(idle).isPositive();
    return count + " silent Writes: " + idle + " DEADLINE_EXCEEDED 'the Write sent no message for "
        + IDLE_WORDS + "', " + (count - idle) + " RESOURCE_EXHAUSTED '" + noRoom + "'";
  }

  private static String slowReads(byte[] large) throws Exception {
    // The server outlives each test of this class: only lines logged from here on are these calls'.
    String ended = "message=\"the client read nothing for " + IDLE_WORDS + "\"";
    long endedBefore = server.log().stream().filter(l -> l.contains(ended)).count();
    ManagedChannel c = channel();
    List<CompletableFuture<Void>> ends = new ArrayList<>();
    List<ClientCallStreamObserver<ReadRequest>> calls = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 50; i++) {
      CompletableFuture<Void> end = new CompletableFuture<>();
      ByteStreamGrpc.newStub(c)
          .read(
              ReadRequest.newBuilder().setResourceName(Streams.blobName(INSTANCE, large)).build(),
              new ClientResponseObserver<ReadRequest, ReadResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<ReadRequest> call) {
                  // One message taken, and nothing after it.
                  call.disableAutoRequestWithInitial(1);
                  calls.add(call);
                }

                @Override
                public void onNext(ReadResponse value) {}

                @Override
                public void onError(Throwable t) {
                  end.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  end.complete(null);
                }
              });
      ends.add(end);
    }
    // The server's status comes after the messages it sent, so the client sees it only once it
    // takes them: it does so once the server has ended every one of these calls.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (server.log().stream().filter(l -> l.contains(ended)).count() < endedBefore + 50) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(100);
    }
    calls.forEach(call -> call.request(Integer.MAX_VALUE));
    for (CompletableFuture<Void> e : ends) {
      Status s = failure(e);
      assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(s.getDescription()).isEqualTo("the client read nothing for " + IDLE_WORDS);
    }
    return "50 Reads taking nothing: DEADLINE_EXCEEDED 'the client read nothing for " + IDLE_WORDS + "'";
  }

  private static String writesBeyondFiveTebibytes() throws Exception {
    ManagedChannel c = channel();
    String description = "";
    for (int i = 0; i < 20; i++) {
      long size = (6L << 40) + i;
      CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
      StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(c).write(Answers.into(answer));
      requests.onNext(
          WriteRequest.newBuilder()
              .setResourceName(
                  INSTANCE + "/uploads/" + UUID.randomUUID() + "/blobs/" + "ab".repeat(32) + "/" + size)
              .setData(ByteString.copyFromUtf8("not nearly that much"))
              .build());
      Status s = failure(answer);
      assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(s.getDescription())
          .contains("is " + size + " bytes (expected: <= max_cas_blob_size_bytes 5497558138880)");
      description = s.getDescription();
    }
    return "Writes declaring 6 TiB: INVALID_ARGUMENT '" + description + "'";
  }

  /**
   * One Write naming a real blob, then messages carrying nothing, as fast as the server takes
   * them: empty messages are not progress, so the server ends the Write after the idle time.
   */
  private static String floodOfEmptyWriteRequests() throws Exception {
    byte[] data = Streams.randomBytes(4096, 7);
    String name = Streams.uploadName(INSTANCE, data);
    CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
    CompletableFuture<ClientCallStreamObserver<WriteRequest>> started = new CompletableFuture<>();
    ByteStreamGrpc.newStub(channel())
        .write(
            new ClientResponseObserver<WriteRequest, WriteResponse>() {
              WriteResponse last;

              @Override
              public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
                started.complete(call);
              }

              @Override
              public void onNext(WriteResponse value) {
                last = value;
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                answer.complete(last);
              }
            });
    ClientCallStreamObserver<WriteRequest> requests = started.join();
    requests.onNext(WriteRequest.newBuilder().setResourceName(name).build());
    WriteRequest empty = WriteRequest.getDefaultInstance();
    long sent = 0;
    long start = System.nanoTime();
    while (!answer.isDone() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60)) {
      if (requests.isReady()) {
        requests.onNext(empty);
        sent++;
      } else {
        Thread.sleep(1);
      }
    }
    Status s = failure(answer);
    assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(s.getDescription()).isEqualTo("the Write sent only empty messages for " + IDLE_WORDS);
    return sent + " empty WriteRequests in " + millisSince(start) + " ms: DEADLINE_EXCEEDED '"
        + s.getDescription() + "'";
  }

  private static String deepTree(Digest root) {
    List<Directory> all = new ArrayList<>();
    String token = "";
    do {
      Iterator<GetTreeResponse> pages =
          cas.getTree(
              GetTreeRequest.newBuilder()
                  .setInstanceName(INSTANCE)
                  .setRootDigest(root)
                  .setPageToken(token)
                  .build());
      token = "";
      while (pages.hasNext()) {
        GetTreeResponse page = pages.next();
        all.addAll(page.getDirectoriesList());
        token = page.getNextPageToken();
      }
    } while (!token.isEmpty());
    assertThat(all).hasSize(2000);
    assertThat(all.get(0).getFiles(0).getName()).isEqualTo("f1999");
    assertThat(all).extracting(d -> d.getFiles(0).getName()).doesNotHaveDuplicates();
    return "GetTree of a 2,000-level chain: OK, 2000 directories";
  }

  private static String selfReferencingTree(Digest self) {
    List<Directory> all = new ArrayList<>();
    cas.getTree(GetTreeRequest.newBuilder().setInstanceName(INSTANCE).setRootDigest(self).build())
        .forEachRemaining(p -> all.addAll(p.getDirectoriesList()));
    assertThat(all).hasSize(1);
    assertThat(all.get(0).getDirectories(0).getDigest()).isEqualTo(self);
    return "GetTree of a self-referencing directory: OK, 1 directory";
  }

  /** A chain of directories, each holding the next, stored by eight batches at once; its root. */
  private static Digest storeChain(int levels) throws Exception {
    Digest below = null;
    List<BatchUpdateBlobsRequest.Builder> batches = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      batches.add(BatchUpdateBlobsRequest.newBuilder().setInstanceName(INSTANCE));
    }
    for (int i = 0; i < levels; i++) {
      Directory.Builder d = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f" + i));
      if (below != null) {
        d.addDirectories(DirectoryNode.newBuilder().setName("d").setDigest(below));
      }
      byte[] bytes = d.build().toByteArray();
      below = Digest.newBuilder().setHash(Streams.sha256(bytes, 0, bytes.length)).setSizeBytes(bytes.length).build();
      batches
          .get(i % batches.size())
          .addRequests(
              BatchUpdateBlobsRequest.Request.newBuilder().setDigest(below).setData(ByteString.copyFrom(bytes)));
    }
    var stub = ContentAddressableStorageGrpc.newFutureStub(channel);
    List<com.google.common.util.concurrent.ListenableFuture<BatchUpdateBlobsResponse>> calls = new ArrayList<>();
    for (BatchUpdateBlobsRequest.Builder b : batches) {
      calls.add(stub.batchUpdateBlobs(b.build()));
    }
    for (var call : calls) {
      for (BatchUpdateBlobsResponse.Response r : call.get(60, TimeUnit.SECONDS).getResponsesList()) {
        assertThat(r.getStatus().getCode()).isZero();
      }
    }
    return below;
  }

  /**
   * A directory naming itself as its child, stored under a hash that is not its own by another
   * writer to the bucket (no client could make one whose hash is its own).
   */
  private static Digest storeSelfReferencing() {
    byte[] marker = "self".getBytes(StandardCharsets.UTF_8);
    String hash = Streams.sha256(marker, 0, marker.length);
    Directory self = null;
    long size = 0;
    for (int i = 0; i < 3; i++) {
      self =
          Directory.newBuilder()
              .addDirectories(
                  DirectoryNode.newBuilder()
                      .setName("again")
                      .setDigest(Digest.newBuilder().setHash(hash).setSizeBytes(size)))
              .build();
      size = self.getSerializedSize();
    }
    s3.put(PREFIX + INSTANCE + "/cas/sha256/" + hash, self.toByteArray());
    return Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
  }

  private static StatusRuntimeException refusal(Runnable call) {
    StatusRuntimeException[] caught = new StatusRuntimeException[1];
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> caught[0] = e);
    return caught[0];
  }

  private static Status failure(CompletableFuture<?> call) throws Exception {
    try {
      call.get(90, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    }
    throw new AssertionError("the call succeeded");
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
