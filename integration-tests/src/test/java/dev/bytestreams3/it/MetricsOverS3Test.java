package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What an operator sees of a server process on a real S3 protocol server: {@code /metrics} with
 * its calls and its S3 requests, and one log line per call.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MetricsOverS3Test {

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

  /** The sum of every sample of {@code name} whose labels include all of {@code labels}. */
  private static double total(String text, String name, String... labels) {
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith(name + "{") && Arrays.stream(labels).allMatch(line::contains)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /**
   * The metrics once the server's own start-up requests are done: the readiness lookup (a HEAD)
   * and the probe of conditional writes (scratch PUTs ending with a DELETE).
   */
  private static String afterStartUpRequests(ServerProcess server) throws Exception {
    String requests = "s3_requests_seconds_count";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String text = metrics(server);
      if (total(text, requests, "operation=\"HeadObject\"") >= 1
          && total(text, requests, "operation=\"DeleteObject\"") >= 1) {
        return text;
      }
      assertThat(System.nanoTime()).as("start-up requests done within 30 s").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static String metrics(ServerProcess server) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void blobInOneMessage_goesUpInOnePutObject_withoutAskingWhetherItExists() throws Exception {
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=it-" + UUID.randomUUID() + "/");
    byte[] whole = randomBytes(1000, 41);
    // Three 16 KiB messages: the server asks whether the blob exists before taking the rest.
    byte[] pieces = randomBytes(40 * 1024, 42);
    try (ServerProcess server = ServerProcess.start(List.of(), args);
        Streams client = new Streams(server.target())) {
      String before = afterStartUpRequests(server);
      assertThat(client.writeAll(uploadName("ci", whole), whole).getCommittedSize())
          .isEqualTo(whole.length);
      // Stored again, answered the same.
      assertThat(client.writeAll(uploadName("ci", whole), whole).getCommittedSize())
          .isEqualTo(whole.length);
      assertThat(client.writeAll(uploadName("ci", pieces), pieces).getCommittedSize())
          .isEqualTo(pieces.length);

      String text = metrics(server);
      String requests = "s3_requests_seconds_count";
      // The blobs' own requests, by their instance: readiness lookups, which calls also start
      // once the last is older than its cache time, are no blob's.
      String ci = "reapi_instance=\"ci\"";
      assertThat(
              total(text, requests, "operation=\"HeadObject\"", ci)
                  - total(before, requests, "operation=\"HeadObject\"", ci))
          .isEqualTo(1);
      assertThat(
              total(text, requests, "operation=\"PutObject\"", "outcome=\"success\"", ci)
                  - total(before, requests, "operation=\"PutObject\"", "outcome=\"success\"", ci))
          .isEqualTo(3);
      assertThat(client.read(blobName("ci", whole), 0, 0)).isEqualTo(whole);
      assertThat(client.read(blobName("ci", pieces), 0, 0)).isEqualTo(pieces);
    }
  }

  @Test
  void metricsEndpoint_showsCallsBytesAndS3Requests_andTheLogHasOneLinePerCall() throws Exception {
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=it-" + UUID.randomUUID() + "/");
    args.add("--part-size-bytes=" + PART);
    byte[] big = randomBytes(2 * PART + 100, 31);
    byte[] small = randomBytes(1000, 32);
    try (ServerProcess server = ServerProcess.start(List.of(), args);
        Streams client = new Streams(server.target())) {
      client.writeAll(uploadName("ci", big), big);
      client.writeAll(uploadName("ci", small), small);
      assertThat(client.read(blobName("ci", big), 0, 0)).isEqualTo(big);
      assertThatThrownBy(() -> client.read(blobName("ci", randomBytes(5, 33)), 0, 0))
          .hasMessageContaining("NOT_FOUND");

      String text = metrics(server);

      String write = "method=\"google.bytestream.ByteStream/Write\"";
      assertThat(total(text, "grpc_server_calls_seconds_count", write, "status=\"OK\""))
          .isEqualTo(2);
      assertThat(
              total(
                  text, "grpc_server_calls_seconds_count",
                  "method=\"google.bytestream.ByteStream/Read\"", "status=\"NOT_FOUND\""))
          .isEqualTo(1);
      assertThat(total(text, "grpc_server_received_bytes_total", write))
          .isGreaterThan(big.length + small.length);
      // The big blob went up in parts, the small one in one request.
      assertThat(total(text, "s3_requests_seconds_count", "operation=\"UploadPart\"", "outcome=\"success\""))
          .isGreaterThanOrEqualTo(3);
      assertThat(
              total(text, "s3_requests_seconds_count", "operation=\"CompleteMultipartUpload\"", "outcome=\"success\""))
          .isEqualTo(1);
      assertThat(total(text, "s3_requests_seconds_count", "operation=\"PutObject\"", "outcome=\"success\""))
          .isGreaterThanOrEqualTo(1);
      assertThat(total(text, "s3_requests_seconds_count", "operation=\"GetObject\"", "outcome=\"success\""))
          .isGreaterThanOrEqualTo(1);
      assertThat(text)
          .contains("bytestream_uploads_in_flight 0")
          .contains("bytestream_memory_budget_capacity_bytes");
      assertThat(server.terminate()).isZero();

      List<String> rpcLines =
          server.log().stream()
              .filter(l -> l.contains("event=rpc") && l.contains("ByteStream/Write"))
              .toList();
      // Two uploads of 641 and 1 messages: two lines.
      assertThat(rpcLines).hasSize(2);
      assertThat(rpcLines).allMatch(l -> l.contains("status=OK") && l.contains("resource=ci/uploads/"));
    }
  }
}
