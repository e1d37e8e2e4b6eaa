package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM to a server process with an upload in flight, on a real S3 protocol server: the upload
 * either finishes within the grace period or, cut at its end, resumes on the next process.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class GracefulShutdownOverS3Test {

  private static final int PART = 5 * 1024 * 1024;

  private static S3Server s3;

  @BeforeAll
  static void startS3() {
    s3 = S3Server.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  private static ServerProcess server(String prefix, int graceSeconds) throws Exception {
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=" + prefix);
    args.add("--part-size-bytes=" + PART);
    args.add("--shutdown-grace-seconds=" + graceSeconds);
    return ServerProcess.start(List.of(), args);
  }

  /** Sends SIGTERM from a thread of its own; the future holds the exit status. */
  private static CompletableFuture<Integer> terminateInBackground(ServerProcess server) {
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                exit.complete(server.terminate());
              } catch (Throwable e) {
                exit.completeExceptionally(e);
              }
            },
            "sigterm");
    t.setDaemon(true);
    t.start();
    return exit;
  }

  private static void awaitCommitted(Streams client, String upload, long atLeast)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (client.committedSize(upload) < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(client.committedSize(upload)).isGreaterThanOrEqualTo(atLeast);
  }

  private static void awaitLog(ServerProcess server, String part) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (server.log().stream().noneMatch(l -> l.contains(part)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(server.log()).anyMatch(l -> l.contains(part));
  }

  @Test
  void uploadInFlightAtSigterm_finishesWithinTheGrace_andTheProcessExitsCleanly()
      throws Exception {
    byte[] data = randomBytes(3 * PART + 777, 11);
    String prefix = "it-" + UUID.randomUUID() + "/";
    String upload = uploadName("ci", data);
    ServerProcess server = server(prefix, 60);
    try (Streams client = new Streams(server.target())) {
      // About 1,000 messages, one every 4 ms: the upload is still running when SIGTERM comes.
      Streams.Upload u = client.write(upload, data, 0, data.length, 16 * 1024, true, true, 4);
      awaitCommitted(client, upload, PART);

      CompletableFuture<Integer> exit = terminateInBackground(server);
      awaitLog(server, "event=stopping");
      assertThat(u.response).isNotDone();
      // The port no longer takes connections.
      try (Streams late = new Streams(server.target())) {
        assertThatThrownBy(() -> late.committedSize(upload))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      }

      WriteResponse r = u.response.get(60, TimeUnit.SECONDS);
      assertThat(r.getCommittedSize()).isEqualTo(data.length);
      assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
      List<String> log = server.log();
      assertThat(log)
          .anyMatch(
              l -> l.contains("method=google.bytestream.ByteStream/Write")
                  && l.contains("resource=" + upload) && l.contains("status=OK"));
      assertThat(log).anyMatch(l -> l.contains("event=stopped"));
    } finally {
      server.close();
    }

    try (ServerProcess next = server(prefix, 5);
        Streams client = new Streams(next.target())) {
      assertThat(client.read(blobName("ci", data), 0, 0)).isEqualTo(data);
    }
  }

  @Test
  void uploadStillRunningWhenTheGraceEnds_isCut_andResumesOnTheNextProcess() throws Exception {
    byte[] data = randomBytes(3 * PART + 4321, 12);
    String prefix = "it-" + UUID.randomUUID() + "/";
    String upload = uploadName("ci", data);
    ServerProcess server = server(prefix, 1);
    try (Streams client = new Streams(server.target())) {
      // One 16 KiB message every 20 ms: far longer than the one-second grace.
      Streams.Upload u = client.write(upload, data, 0, data.length, 16 * 1024, true, true, 20);
      awaitCommitted(client, upload, PART);
      assertThat(terminateInBackground(server).get(60, TimeUnit.SECONDS)).isZero();
      assertThatThrownBy(() -> u.response.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(StatusRuntimeException.class);
    } finally {
      server.close();
    }

    try (ServerProcess next = server(prefix, 5);
        Streams client = new Streams(next.target())) {
      long committed = client.committedSize(upload);
      assertThat(committed).isGreaterThanOrEqualTo(PART).isLessThan(data.length);
      assertThat(committed % PART).isZero();
      WriteResponse r =
          client
              .write(upload, data, (int) committed, data.length, 16 * 1024, true, true, 0)
              .response
              .get(60, TimeUnit.SECONDS);
      assertThat(r.getCommittedSize()).isEqualTo(data.length);
      assertThat(client.read(blobName("ci", data), 0, 0)).isEqualTo(data);
    }
  }
}
