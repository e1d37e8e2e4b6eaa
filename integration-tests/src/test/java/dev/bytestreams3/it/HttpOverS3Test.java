package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP port of a server process on a real S3 protocol server: a raw upload cut mid-way
 * resumes from the parts S3 completed, and ranged downloads read them back.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class HttpOverS3Test {

  private static final int PART = 5 * 1024 * 1024;

  private static S3Server s3;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Server.start();
    System.out.println("HTTP end-to-end tests: running against " + s3.description());
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  private static ServerProcess server() throws Exception {
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=http-" + UUID.randomUUID() + "/");
    args.add("--part-size-bytes=" + PART);
    return ServerProcess.start(List.of(), args);
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void rawUploadCutMidway_resumesFromCompletedParts_andRangesReadBack() throws Exception {
    byte[] data = randomBytes(3 * PART + 12345, 7);
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    try (ServerProcess server = server()) {
      String base = "http://127.0.0.1:" + server.httpPort();
      assertThat(send(HttpRequest.newBuilder(URI.create(base + "/readyz"))).statusCode()).isEqualTo(200);

      String upload = base + "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + data.length;
      long sent = 2L * PART + PART / 2;
      assertThatThrownBy(
              () -> http.send(
                  HttpRequest.newBuilder(URI.create(upload))
                      .PUT(BodyPublishers.fromPublisher(new FailingAfter(data, sent))).build(),
                  HttpResponse.BodyHandlers.ofString()))
          .hasStackTraceContaining("cut on purpose");

      // S3 commits whole parts only: once the cut write has wound down, two parts are committed.
      long committed = -1;
      for (int i = 0; i < 100 && committed != 2L * PART; i++) {
        Thread.sleep(100);
        HttpResponse<String> head =
            send(HttpRequest.newBuilder(URI.create(upload)).method("HEAD", BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        committed = Long.parseLong(head.headers().firstValue("x-committed-size").orElseThrow());
        assertThat(committed % PART).isZero();
      }
      assertThat(committed).isEqualTo(2L * PART);

      String blob = base + "/raw/blobs/" + hash + "/" + data.length;
      assertThat(send(HttpRequest.newBuilder(URI.create(blob))).statusCode()).isEqualTo(404);

      HttpResponse<String> resumed =
          send(HttpRequest.newBuilder(URI.create(upload + "?offset=" + committed))
              .PUT(BodyPublishers.ofByteArray(data, (int) committed, data.length - (int) committed)));
      assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
      assertThat(resumed.body()).isEqualTo("{\"committedSize\":\"" + data.length + "\"}");

      HttpResponse<byte[]> whole =
          http.send(HttpRequest.newBuilder(URI.create(blob)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(whole.body()).isEqualTo(data);

      int from = PART - 100;
      HttpResponse<byte[]> range =
          http.send(
              HttpRequest.newBuilder(URI.create(blob)).header("Range", "bytes=" + from + "-" + (from + 199)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(range.statusCode()).isEqualTo(206);
      assertThat(range.headers().firstValue("content-range")).hasValue("bytes " + from + "-" + (from + 199) + "/" + data.length);
      assertThat(range.body()).isEqualTo(Arrays.copyOfRange(data, from, from + 200));

      HttpResponse<String> status =
          send(HttpRequest.newBuilder(URI.create(base + "/v1/" + upload.substring(upload.indexOf("/raw/") + 5) + ":queryWriteStatus")));
      assertThat(status.body()).isEqualTo("{\"committedSize\":\"" + data.length + "\",\"complete\":true}");
    }
  }

  /** Publishes {@code data} in 64 KiB pieces and fails after {@code limit} bytes. */
  static final class FailingAfter implements Flow.Publisher<ByteBuffer> {
    private final byte[] data;
    private final long limit;

    FailingAfter(byte[] data, long limit) {
      this.data = data;
      this.limit = limit;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
      AtomicLong pos = new AtomicLong();
      s.onSubscribe(
          new Flow.Subscription() {
            boolean done;

            @Override
            public synchronized void request(long n) {
              for (long i = 0; i < n && !done; i++) {
                long p = pos.get();
                if (p >= limit) {
                  done = true;
                  s.onError(new java.io.IOException("cut on purpose"));
                  return;
                }
                int len = (int) Math.min(65536, limit - p);
                // Advanced before onNext, which may call request() again from inside.
                pos.addAndGet(len);
                s.onNext(ByteBuffer.wrap(data, (int) p, len));
              }
            }

            @Override
            public void cancel() {
              done = true;
            }
          });
    }
  }
}
