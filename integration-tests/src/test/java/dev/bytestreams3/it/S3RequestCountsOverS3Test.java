package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.sha256;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a blob written through the server costs in S3 requests, counted by the server's own SDK
 * interceptor ({@code s3_requests_seconds_count} on {@code /metrics}) against S3Mock and compared
 * with what the AWS SDK's own multipart upload sends for the same blob: CreateMultipartUpload, one
 * UploadPart per part and CompleteMultipartUpload.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3RequestCountsOverS3Test {

  private static final int MIB = 1024 * 1024;
  private static final int PART = 8 * MIB;
  private static final Pattern SAMPLE =
      Pattern.compile("^s3_requests_seconds_count\\{(.*)\\} ([0-9.eE+-]+)$");
  private static final Pattern OPERATION = Pattern.compile("operation=\"([^\"]*)\"");

  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static S3Server s3;
  private static ServerProcess server;
  private static ManagedChannel channel;
  private static Streams client;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=counts-" + UUID.randomUUID() + "/");
    args.add("--instance-names=ci");
    // Every setting at its default but the record's time limit, so that a slow machine adds no
    // record writes to the count: records every 16 parts.
    args.add("--upload-record-every-seconds=3600");
    server = ServerProcess.start(List.of("-Xmx1g"), args);
    channel = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
    client = new Streams(server.target());
    afterStartUpRequests();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
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

  /** S3 requests so far, by operation, all instances and outcomes together. */
  private static Map<String, Long> requests() throws Exception {
    return requests("");
  }

  /** S3 requests so far whose labels include {@code label}, by operation. */
  private static Map<String, Long> requests(String label) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                .timeout(java.time.Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Long> byOperation = new TreeMap<>();
    for (String line : r.body().split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (m.matches() && m.group(1).contains(label)) {
        Matcher op = OPERATION.matcher(m.group(1));
        op.find();
        byOperation.merge(op.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
      }
    }
    return byOperation;
  }

  /**
   * The requests for instance {@code ci}'s blobs counted while {@code action} ran, by operation:
   * readiness lookups, which calls also start once the last is older than its cache time, are no
   * blob's and are left out.
   */
  private static Map<String, Long> counted(ThrowingRunnable action) throws Exception {
    Map<String, Long> before = requests("reapi_instance=\"ci\"");
    action.run();
    Map<String, Long> after = requests("reapi_instance=\"ci\"");
    Map<String, Long> delta = new TreeMap<>();
    after.forEach(
        (op, n) -> {
          long d = n - before.getOrDefault(op, 0L);
          if (d != 0) {
            delta.put(op, d);
          }
        });
    return delta;
  }

  private static long total(Map<String, Long> counts) {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Waits for the start-up readiness lookup and write-condition probe, left out of the counts. */
  private static void afterStartUpRequests() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (requests().getOrDefault("DeleteObject", 0L) < 1
        || requests().getOrDefault("HeadObject", 0L) < 1) {
      assertThat(System.nanoTime()).as("start-up requests done within 30 s").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static List<Digest> findMissing(byte[] data) {
    return ContentAddressableStorageGrpc.newBlockingStub(channel)
        .findMissingBlobs(
            FindMissingBlobsRequest.newBuilder()
                .setInstanceName("ci")
                .addBlobDigests(
                    Digest.newBuilder()
                        .setHash(sha256(data, 0, data.length))
                        .setSizeBytes(data.length))
                .build())
        .getMissingBlobDigestsList();
  }

  private static void write(byte[] data, int messageBytes) throws Exception {
    assertThat(
            client
                .write(uploadName("ci", data), data, 0, data.length, messageBytes, true, true, 0)
                .response
                .get(150, TimeUnit.SECONDS)
                .getCommittedSize())
        .isEqualTo(data.length);
  }

  @Test
  void blobOf256MiB_costsAtMostAQuarterMoreRequestsThanTheSdksMultipartUpload() throws Exception {
    byte[] data = randomBytes(256 * MIB, 71);
    int parts = data.length / PART;
    long sdk = 1 + parts + 1;

    Map<String, Long> find = counted(() -> assertThat(findMissing(data)).hasSize(1));
    Map<String, Long> write = counted(() -> write(data, MIB));
    System.out.println(
        "S3 requests for 256 MiB in " + parts + " parts of 8 MiB: FindMissingBlobs " + find
            + "; Write after it " + total(write) + " " + write + "; the SDK's multipart upload "
            + sdk + " (CreateMultipartUpload, " + parts + " UploadPart, CompleteMultipartUpload)");

    assertThat(find).containsExactly(Map.entry("HeadObject", 1L));
    assertThat(write.get("UploadPart")).isEqualTo(parts);
    assertThat(write.get("CompleteMultipartUpload")).isEqualTo(1);
    assertThat(write).doesNotContainKey("HeadObject");
    // Every request of the upload, its record's included, is counted for instance ci.
    Map<String, Long> ci = requests("reapi_instance=\"ci\"");
    assertThat(ci.get("UploadPart")).isEqualTo(parts);
    assertThat(ci.get("DeleteObject")).isEqualTo(write.get("DeleteObject"));
    assertThat((double) total(write)).isLessThanOrEqualTo(1.25 * sdk);
    assertThat(client.readSha256(blobName("ci", data), 0)).isEqualTo(sha256(data, 0, data.length));
  }

  @Test
  void smallBlobInSeveralMessages_costsAtMostOneRequestMoreThanAPutObject() throws Exception {
    byte[] asked = randomBytes(100 * 1024, 72);
    byte[] unasked = randomBytes(100 * 1024, 73);

    Map<String, Long> afterFind =
        counted(
            () -> {
              assertThat(findMissing(asked)).hasSize(1);
            });
    Map<String, Long> writeAsked = counted(() -> write(asked, 16 * 1024));
    Map<String, Long> writeUnasked = counted(() -> write(unasked, 16 * 1024));
    System.out.println(
        "S3 requests for 100 KiB in 16 KiB messages: after FindMissingBlobs " + afterFind
            + " the Write costs " + writeAsked + "; without it " + writeUnasked);

    assertThat(writeAsked).containsExactly(Map.entry("PutObject", 1L));
    // Counted for the instance the blobs belong to.
    assertThat(requests("reapi_instance=\"ci\"").get("PutObject")).isGreaterThanOrEqualTo(2);
    assertThat(writeUnasked)
        .containsExactlyInAnyOrderEntriesOf(Map.of("HeadObject", 1L, "PutObject", 1L));
    assertThat(client.read(blobName("ci", asked), 0, 0)).isEqualTo(asked);
    assertThat(client.read(blobName("ci", unasked), 0, 0)).isEqualTo(unasked);
  }
}
