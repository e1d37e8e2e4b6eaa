package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.sha256;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server as its own process, over real sockets, on a real S3 protocol server: large writes,
 * restarts and replicas resuming each other's uploads, verification, and bounded memory.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ByteStreamOverS3Test {

  private static final int PART = 5 * 1024 * 1024;

  private static S3Server s3;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Server.start();
    System.out.println("end-to-end tests: running against " + s3.description());
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  /** A server on the shared bucket under {@code prefix}, as a fresh replica would start. */
  private static ServerProcess server(String prefix, List<String> jvmArgs, String... extra)
      throws Exception {
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=" + prefix);
    args.add("--part-size-bytes=" + PART);
    args.addAll(Arrays.asList(extra));
    return ServerProcess.start(jvmArgs, args);
  }

  private static String prefix() {
    return "it-" + UUID.randomUUID() + "/";
  }

  private static void assertStatus(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(messagePart);
            });
  }

  @Test
  void write64MiBIn16KiBMessages_readsBackIdentical_includingRangesAtPartBoundaries()
      throws Exception {
    byte[] data = randomBytes(64 * 1024 * 1024, 1);
    try (ServerProcess server = server(prefix(), List.of());
        Streams client = new Streams(server.target())) {
      WriteResponse r = client.writeAll(uploadName("main", data), data);
      assertThat(r.getCommittedSize()).isEqualTo(data.length);

      String name = blobName("main", data);
      assertThat(client.readSha256(name, 0)).isEqualTo(sha256(data, 0, data.length));
      for (long offset : new long[] {PART - 1, PART, 2L * PART - 3, 8L * PART - 1}) {
        assertThat(client.read(name, offset, 7))
            .as("7 bytes at %d", offset)
            .isEqualTo(Arrays.copyOfRange(data, (int) offset, (int) offset + 7));
      }
      assertThat(client.read(name, data.length - 10, 0))
          .isEqualTo(Arrays.copyOfRange(data, data.length - 10, data.length));
      assertThat(client.read(name, data.length, 0)).isEmpty();
      assertStatus(() -> client.read(name, data.length + 1L, 0), Status.Code.OUT_OF_RANGE, "offset");
    }
  }

  @Test
  void serverKilledMidUpload_newProcessResumesFromCompletedParts() throws Exception {
    byte[] data = randomBytes(4 * PART + 12345, 2);
    String prefix = prefix();
    String upload = uploadName("ci", data);
    ServerProcess first = server(prefix, List.of());
    Streams firstClient = new Streams(first.target());
    // Everything but the last part is sent and the stream stays open: then the server dies.
    Streams.Upload u =
        firstClient.write(upload, data, 0, 4 * PART, 16 * 1024, false, false, 0);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (firstClient.committedSize(upload) < 2L * PART && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(firstClient.committedSize(upload)).isGreaterThanOrEqualTo(2L * PART);
    first.kill();
    firstClient.close();
    assertThat(u.response.isCompletedExceptionally() || !u.response.isDone()).isTrue();

    try (ServerProcess second = server(prefix, List.of());
        Streams client = new Streams(second.target())) {
      long committed = client.committedSize(upload);
      assertThat(committed).isGreaterThanOrEqualTo(2L * PART).isLessThanOrEqualTo(4L * PART);
      assertThat(committed % PART).isZero();
      assertStatus(() -> client.read(blobName("ci", data), 0, 0), Status.Code.NOT_FOUND, "not found");

      WriteResponse r =
          client
              .write(upload, data, (int) committed, data.length, 16 * 1024, true, true, 0)
              .response
              .get(60, TimeUnit.SECONDS);
      assertThat(r.getCommittedSize()).isEqualTo(data.length);
      assertThat(client.read(blobName("ci", data), 0, 0)).isEqualTo(data);
    }
  }

  @Test
  void uploadStartedOnOneReplica_isFinishedOnTheOther_andReadableFromBoth() throws Exception {
    byte[] data = randomBytes(3 * PART + 999, 3);
    String prefix = prefix();
    String upload = uploadName("team/linux", data);
    try (ServerProcess a = server(prefix, List.of());
        ServerProcess b = server(prefix, List.of());
        Streams onA = new Streams(a.target());
        Streams onB = new Streams(b.target())) {
      // Two parts and a bit, then the client stops: only whole parts are committed.
      WriteResponse partial =
          onA.write(upload, data, 0, 2 * PART + 4096, 16 * 1024, false, true, 0)
              .response
              .get(60, TimeUnit.SECONDS);
      assertThat(partial.getCommittedSize()).isEqualTo(2L * PART);
      assertThat(onB.committedSize(upload)).isEqualTo(2L * PART);

      WriteResponse done =
          onB.write(upload, data, 2 * PART, data.length, 16 * 1024, true, true, 0)
              .response
              .get(60, TimeUnit.SECONDS);
      assertThat(done.getCommittedSize()).isEqualTo(data.length);
      assertThat(onA.read(blobName("team/linux", data), 0, 0)).isEqualTo(data);
      assertThat(onB.read(blobName("team/linux", data), 0, 0)).isEqualTo(data);
    }
  }

  /** The committed size of object {@code name}; 0 while its upload is not known yet. */
  private static long committedOrZero(Streams client, String name) {
    try {
      return client.committedSize(name);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return 0;
      }
      throw e;
    }
  }

  @Test
  void objectRestartedAtZeroOnAnotherReplica_whileItsWriterIsAlive_isAborted_andTheWriterFinishes()
      throws Exception {
    byte[] data = randomBytes(3 * PART + 777, 5);
    byte[] other = randomBytes(PART + 10, 6);
    String prefix = prefix();
    String name = "files/restart/" + UUID.randomUUID();
    try (ServerProcess a = server(prefix, List.of());
        ServerProcess b = server(prefix, List.of());
        Streams onA = new Streams(a.target());
        Streams onB = new Streams(b.target())) {
      // A live writer sends two parts and keeps its stream open.
      Streams.Upload live = onA.write(name, data, 0, 2 * PART, 64 * 1024, true, false, 0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while ((live.sent < 2 * PART || committedOrZero(onB, name) < 2L * PART)
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(committedOrZero(onB, name)).isEqualTo(2L * PART);

      // Another client starts the same object over at offset 0 on the other replica.
      ExecutionException refused = null;
      try {
        onB.write(name, other, 0, other.length, 64 * 1024, true, true, 0)
            .response
            .get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        refused = e;
      }
      assertThat(refused).as("the restart's answer").isNotNull();
      Status status = Status.fromThrowable(refused.getCause());
      assertThat(status.getCode()).isEqualTo(Status.Code.ABORTED);
      assertThat(status.getDescription())
          .contains("another writer holds the upload")
          .containsPattern("retry after \\d+ s");

      // The live writer goes on in its own stream, undisturbed, and finishes.
      for (int off = 2 * PART; off < data.length; off += 64 * 1024) {
        int n = Math.min(64 * 1024, data.length - off);
        live.requests.onNext(
            WriteRequest.newBuilder()
                .setWriteOffset(off)
                .setData(ByteString.copyFrom(data, off, n))
                .setFinishWrite(off + n == data.length)
                .build());
      }
      live.requests.onCompleted();
      assertThat(live.response.get(120, TimeUnit.SECONDS).getCommittedSize())
          .isEqualTo(data.length);
      assertThat(onB.read(name, 0, 0)).isEqualTo(data);
    }
  }

  @Test
  void digestMismatch_publishesNothing_evenWhenResumedOnAnotherReplica() throws Exception {
    byte[] data = randomBytes(2 * PART + 100, 4);
    byte[] corrupt = data.clone();
    corrupt[17] ^= 0x40;
    String prefix = prefix();
    try (ServerProcess a = server(prefix, List.of());
        ServerProcess b = server(prefix, List.of());
        Streams onA = new Streams(a.target());
        Streams onB = new Streams(b.target())) {
      String whole = uploadName("main", data);
      assertThatThrownBy(() -> onA.writeAll(whole, corrupt))
          .hasMessageContaining("INVALID_ARGUMENT")
          .hasMessageContaining("(expected: sha256:" + sha256(data, 0, data.length) + ")");

      String resumed = uploadName("main", data);
      onA.write(resumed, corrupt, 0, PART + 10, 16 * 1024, false, true, 0)
          .response
          .get(60, TimeUnit.SECONDS);
      assertThat(onB.committedSize(resumed)).isEqualTo(PART);
      assertThatThrownBy(
              () ->
                  onB.write(resumed, data, PART, data.length, 16 * 1024, true, true, 0)
                      .response
                      .get(60, TimeUnit.SECONDS))
          .hasMessageContaining("INVALID_ARGUMENT");

      assertStatus(() -> onA.read(blobName("main", data), 0, 0), Status.Code.NOT_FOUND, "not found");
      assertStatus(() -> onB.read(blobName("main", data), 0, 0), Status.Code.NOT_FOUND, "not found");
    }
  }

  @Test
  void readDuringUnfinishedUpload_isNotFound() throws Exception {
    byte[] data = randomBytes(PART + 10, 5);
    try (ServerProcess server = server(prefix(), List.of());
        Streams client = new Streams(server.target())) {
      String upload = uploadName("", data).substring(1);
      Streams.Upload u = client.write(upload, data, 0, PART + 5, 16 * 1024, false, false, 0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (client.committedSize(upload) < PART && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertStatus(
          () -> client.read(blobName("", data).substring(1), 0, 0), Status.Code.NOT_FOUND, "not found");
      u.requests.cancel("test done", null);
    }
  }

  @Test
  void slowWritersAndSlowReaders_withASmallHeap_allCompleteWithinTheBudget() throws Exception {
    long budget = 48L * 1024 * 1024;
    try (ServerProcess server =
            server(prefix(), List.of("-Xmx256m"), "--memory-budget-bytes=" + budget);
        Streams client = new Streams(server.target())) {
      byte[] shared = randomBytes(24 * 1024 * 1024, 6);
      client.writeAll(uploadName("mem", shared), shared);

      List<byte[]> blobs = new ArrayList<>();
      List<Streams.Upload> uploads = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        byte[] data = randomBytes(6 * 1024 * 1024 + i, 100 + i);
        blobs.add(data);
        // Every third writer is slow: a 16 KiB message every 2 ms holds its buffer a long time.
        long pause = i % 3 == 0 ? 2 : 0;
        uploads.add(
            client.write(uploadName("mem", data), data, 0, data.length, 16 * 1024, true, true, pause));
      }
      List<java.util.concurrent.CompletableFuture<String>> reads = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        long pause = i % 2 == 0 ? 5 : 0;
        reads.add(
            java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return client.readSha256(blobName("mem", shared), pause);
                  } catch (Exception e) {
                    throw new RuntimeException(e);
                  }
                }));
      }
      for (int i = 0; i < uploads.size(); i++) {
        assertThat(uploads.get(i).response.get(4, TimeUnit.MINUTES).getCommittedSize())
            .isEqualTo(blobs.get(i).length);
      }
      for (var r : reads) {
        assertThat(r.get(4, TimeUnit.MINUTES)).isEqualTo(sha256(shared, 0, shared.length));
      }
      for (int i = 0; i < blobs.size(); i += 5) {
        assertThat(client.read(blobName("mem", blobs.get(i)), 0, 0)).isEqualTo(blobs.get(i));
      }
      assertThat(server.isAlive()).isTrue();
      assertThat(server.terminate()).isZero();
      assertThat(server.log()).noneMatch(l -> l.contains("OutOfMemoryError"));
      String peakLine =
          server.log().stream()
              .filter(l -> l.contains("event=stopped"))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AssertionError(
                          "no 'stopped' line in the server log:\n"
                              + String.join("\n", server.log())));
      long peak =
          Long.parseLong(peakLine.replaceAll(".*memory_budget_peak_bytes=(\\d+).*", "$1"));
      System.out.println("memory budget peak " + peak + " of " + budget + " bytes");
      assertThat(peak).isPositive().isLessThanOrEqualTo(budget);
    }
  }
}
