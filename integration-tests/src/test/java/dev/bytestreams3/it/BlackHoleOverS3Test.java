package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.s3.BlackHoleProxy;
import io.grpc.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server process whose S3 goes dark for a few seconds (connections accepted, nothing answered)
 * while many writes of different contents run at once over gRPC and HTTP: single-message CAS
 * writes, two uploads of one digest, retries under one upload name after a client deadline, plain objects and a multipart blob whose parts fill the
 * memory budget, so that the small writes wait for memory. Once S3 is back, every
 * write either failed with a status a client retries, or stored exactly its own bytes; no correct
 * write is told that its content hashes to something else.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BlackHoleOverS3Test {

  private static final int PART = 5 * 1024 * 1024;
  private static final Set<Status.Code> RETRYABLE =
      Set.of(Status.Code.UNAVAILABLE, Status.Code.ABORTED, Status.Code.DEADLINE_EXCEEDED);
  /** The HTTP statuses of {@link #RETRYABLE}. */
  private static final Set<Integer> RETRYABLE_HTTP = Set.of(503, 409, 504);

  /** One write started while S3 was dark: what it stores, and how it ended. */
  private record Attempt(String what, String readName, byte[] data, CompletableFuture<String> outcome) {}

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  @Test
  void writesDuringABlackHole_failRetryablyOrStoreTheirOwnBytes() throws Exception {
    try (S3Server s3 = S3Server.start();
        BlackHoleProxy hole = new BlackHoleProxy(s3.endpoint())) {
      List<String> args = new ArrayList<>(s3.serverArgsVia(hole.endpoint()));
      args.add("--prefix=hole-" + UUID.randomUUID() + "/");
      args.add("--part-size-bytes=" + PART);
      // Room for four parts, the fewest the server accepts: the multipart write's parts, held while
      // S3 is dark, fill it, so the small writes after it wait for memory until S3 answers again.
      args.add("--memory-budget-bytes=" + 4 * PART);
      try (ServerProcess server = ServerProcess.start(List.of(), args);
          Streams grpc = new Streams(server.target())) {
        String base = "http://127.0.0.1:" + server.httpPort();
        // S3 answers at first: the server has connections and a bucket it knows.
        byte[] warm = randomBytes(1000, 1);
        String warmName = Streams.uploadName("warm", warm);
        assertThat(grpc.write(warmName, warm, 0, warm.length, warm.length, true, true, 0)
                .response.get(60, TimeUnit.SECONDS).getCommittedSize())
            .isEqualTo(1000);

        hole.goDark();
        List<Attempt> attempts = new ArrayList<>();
        long seed = 100;
        byte[] big = randomBytes(4 * PART + 4321, seed++);
        attempts.add(grpcWrite("gRPC multipart CAS write", grpc,
            Streams.uploadName("cas", big), Streams.blobName("cas", big), big, 64 * 1024));
        Thread.sleep(1_000);
        for (int i = 0; i < 24; i++) {
          byte[] data = randomBytes(1000, seed++);
          attempts.add(grpcWrite("gRPC one-message CAS write " + i, grpc,
              Streams.uploadName("cas", data), Streams.blobName("cas", data), data, data.length));
        }
        byte[] twice = randomBytes(1000, seed++);
        for (int i = 0; i < 2; i++) {
          attempts.add(grpcWrite("gRPC write " + i + " of one digest", grpc,
              Streams.uploadName("cas", twice), Streams.blobName("cas", twice), twice, twice.length));
        }
        for (int i = 0; i < 8; i++) {
          byte[] data = randomBytes(1000 + 37 * i, seed++);
          String name = "files/hole/" + UUID.randomUUID();
          attempts.add(grpcWrite("gRPC plain object " + i, grpc, name, name, data, data.length));
        }
        for (int i = 0; i < 4; i++) {
          // A client that gives up after a second and sends the same upload again, as Bazel
          // retries under the same upload name, while its first attempt may still be running.
          byte[] data = randomBytes(1000, seed++);
          String upload = Streams.uploadName("cas", data);
          CompletableFuture<String> outcome =
              grpc.writeWithin(1_000, upload, data)
                  .response
                  .handle((r, err) -> err)
                  .thenCompose(
                      err ->
                          err == null
                              ? CompletableFuture.completedFuture("stored")
                              : grpcWrite("", grpc, upload, "", data, data.length).outcome());
          attempts.add(new Attempt("gRPC CAS write " + i + " retried under its upload name",
              Streams.blobName("cas", data), data, outcome));
        }
        for (int i = 0; i < 8; i++) {
          byte[] data = randomBytes(1000, seed++);
          attempts.add(ndjsonWrite("NDJSON one-message CAS write " + i, base,
              Streams.uploadName("cas", data), Streams.blobName("cas", data), data));
        }
        for (int i = 0; i < 8; i++) {
          byte[] data = randomBytes(1000, seed++);
          String upload = "cas/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data, 0, data.length) + "/" + data.length;
          attempts.add(rawPut("raw PUT CAS write " + i, base, upload, Streams.blobName("cas", data), data));
        }
        for (int i = 0; i < 4; i++) {
          byte[] data = randomBytes(2000 + 11 * i, seed++);
          String name = "files/hole/raw-" + UUID.randomUUID();
          attempts.add(rawPut("raw PUT plain object " + i, base, name, name, data));
        }

        Thread.sleep(3_000);
        hole.comeBack();

        List<String> wrong = new ArrayList<>();
        int stored = 0;
        for (Attempt a : attempts) {
          String outcome = a.outcome().get(120, TimeUnit.SECONDS);
          if (outcome.equals("stored")) {
            byte[] back = grpc.read(a.readName(), 0, 0);
            if (!java.util.Arrays.equals(back, a.data())) {
              wrong.add(a.what() + ": answered OK but reads back " + back.length + " other bytes ("
                  + sha256(back, 0, back.length) + ", sent " + sha256(a.data(), 0, a.data().length) + ")");
            }
            stored++;
          } else if (!outcome.startsWith("retryable")) {
            wrong.add(a.what() + ": " + outcome);
          }
        }
        System.out.println("black hole: " + stored + " of " + attempts.size() + " writes stored");
        assertThat(wrong).isEmpty();
      }
    }
  }

  /**
   * S3 goes dark between two halves of an upload: new calls answer UNAVAILABLE, naming the outage,
   * within two health lookups' timeout plus their reuse time (2 × 2 s + 1 s here; bound asserted
   * with 2 s to spare), not after S3 requests' own timeouts and retries (30 s); once S3 is back,
   * QueryWriteStatus gives what was committed and the write resumes from it.
   */
  @Test
  void outage_newCallsAnswerUnavailableWithinTheLookupTimeout_andTheWriteResumesAfterIt()
      throws Exception {
    try (S3Server s3 = S3Server.start();
        BlackHoleProxy hole = new BlackHoleProxy(s3.endpoint())) {
      List<String> args = new ArrayList<>(s3.serverArgsVia(hole.endpoint()));
      args.add("--prefix=outage-" + UUID.randomUUID() + "/");
      args.add("--part-size-bytes=" + PART);
      args.add("--readiness-timeout-seconds=2");
      args.add("--readiness-cache-seconds=1");
      try (ServerProcess server = ServerProcess.start(List.of(), args);
          Streams grpc = new Streams(server.target())) {
        io.grpc.ManagedChannel channel =
            io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(server.target())
                .usePlaintext()
                .build();
        try {
          byte[] data = randomBytes(2 * PART + 12345, 7);
          String upload = Streams.uploadName("outage", data);
          long committed =
              grpc.write(upload, data, 0, PART + 1000, 64 * 1024, false, true, 0)
                  .response.get(60, TimeUnit.SECONDS).getCommittedSize();
          assertThat(committed).isEqualTo(PART);

          hole.goDark();
          long dark = System.nanoTime();
          String outage =
              "the store did not answer its last two health lookups within 2 s; calls that need it"
                  + " are refused until it answers again, retry later";
          Status first = null;
          while (first == null) {
            assertThat(Duration.ofNanos(System.nanoTime() - dark)).isLessThan(Duration.ofSeconds(30));
            Status s = queryStatus(channel, upload);
            if (s.getCode() == Status.Code.UNAVAILABLE) {
              first = s;
            } else {
              // A call that reached S3 before the lookup failed waits out its client deadline.
              assertThat(s.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
              Thread.sleep(100);
            }
          }
          Duration toFirst = Duration.ofNanos(System.nanoTime() - dark);
          System.out.println("outage: first UNAVAILABLE after " + toFirst.toMillis() + " ms");
          assertThat(first.getDescription()).isEqualTo(outage);
          assertThat(toFirst).isLessThan(Duration.ofSeconds(7));
          // Every new call now fails at once, whatever it needs of the store.
          long start = System.nanoTime();
          assertThat(
                  Status.fromThrowable(
                      org.assertj.core.api.Assertions.catchThrowable(
                          () ->
                              grpc.write(upload, data, PART, data.length, 64 * 1024, true, true, 0)
                                  .response.get(10, TimeUnit.SECONDS))))
              .satisfies(
                  s -> {
                    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(s.getDescription()).isEqualTo(outage);
                  });
          assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));

          hole.comeBack();
          long back = System.nanoTime();
          Status answered = Status.UNAVAILABLE;
          while (!answered.isOk()) {
            assertThat(Duration.ofNanos(System.nanoTime() - back)).isLessThan(Duration.ofSeconds(30));
            Thread.sleep(200);
            answered = queryStatus(channel, upload);
          }
          System.out.println(
              "outage: calls served again " + (System.nanoTime() - back) / 1_000_000 + " ms after S3 came back");
          committed = grpc.committedSize(upload);
          assertThat(committed).isEqualTo(PART);
          assertThat(
                  grpc.write(upload, data, (int) committed, data.length, 64 * 1024, true, true, 0)
                      .response.get(60, TimeUnit.SECONDS).getCommittedSize())
              .isEqualTo(data.length);
          assertThat(grpc.read(Streams.blobName("outage", data), 0, 0)).isEqualTo(data);
          assertThat(server.log().stream().filter(l -> l.contains("store-unreachable"))).hasSize(1);
          assertThat(server.log().stream().filter(l -> l.contains("store-reachable"))).hasSize(1);
        } finally {
          channel.shutdownNow();
        }
      }
    }
  }

  /** QueryWriteStatus of {@code upload} with a 1 s deadline: its status, OK when it answered. */
  private static Status queryStatus(io.grpc.ManagedChannel channel, String upload) {
    try {
      com.google.bytestream.ByteStreamGrpc.newBlockingStub(channel)
          .withDeadlineAfter(1, TimeUnit.SECONDS)
          .queryWriteStatus(
              com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest.newBuilder()
                  .setResourceName(upload)
                  .build());
      return Status.OK;
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private static Attempt grpcWrite(
      String what, Streams grpc, String name, String readName, byte[] data, int chunk) {
    CompletableFuture<String> outcome =
        grpc.write(name, data, 0, data.length, chunk, true, true, 0)
            .response
            .handle(
                (r, err) -> {
                  if (err == null) {
                    return r.getCommittedSize() == data.length
                        ? "stored"
                        : "committed_size " + r.getCommittedSize() + " of " + data.length;
                  }
                  Status s = Status.fromThrowable(err);
                  return RETRYABLE.contains(s.getCode())
                      ? "retryable " + s
                      : "failed with " + s.getCode() + ": " + s.getDescription();
                });
    return new Attempt(what, readName, data, outcome);
  }

  private Attempt ndjsonWrite(String what, String base, String upload, String readName, byte[] data) {
    String line = "{\"resourceName\":\"" + upload + "\",\"writeOffset\":\"0\",\"finishWrite\":true,\"data\":\""
        + Base64.getEncoder().encodeToString(data) + "\"}\n";
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(base + "/v1/bytestream:write"))
            .header("Content-Type", "application/x-ndjson")
            .POST(BodyPublishers.ofString(line))
            .build();
    return new Attempt(what, readName, data, httpOutcome(req));
  }

  private Attempt rawPut(String what, String base, String name, String readName, byte[] data) {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(base + "/raw/" + name)).PUT(BodyPublishers.ofByteArray(data)).build();
    return new Attempt(what, readName, data, httpOutcome(req));
  }

  private CompletableFuture<String> httpOutcome(HttpRequest req) {
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .handle(
            (r, err) -> {
              if (err != null) {
                return "HTTP request failed: " + err;
              }
              if (r.statusCode() == 200) {
                return "stored";
              }
              return RETRYABLE_HTTP.contains(r.statusCode())
                  ? "retryable HTTP " + r.statusCode()
                  : "HTTP " + r.statusCode() + ": " + r.body();
            });
  }
}
