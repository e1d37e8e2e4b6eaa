package dev.bytestreams3.service.gateway;

import static dev.bytestreams3.service.gateway.GatewayTest.random;
import static dev.bytestreams3.service.gateway.GatewayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The raw byte routes over real sockets: uploads, ranged downloads, resumption. */
class RawRoutesTest {

  @TempDir Path dir;

  private GatewayHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new GatewayHarness(dir);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  private HttpResponse<String> head(String path) throws Exception {
    return h.client.send(
        HttpRequest.newBuilder(h.uri(path)).method("HEAD", BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void put_thenGetHeadAndRanges() throws Exception {
    byte[] data = random(2 * 1024 * 1024 + 17, 11);
    HttpResponse<String> put = h.send("PUT", "/raw/files/photos/cat.jpg", BodyPublishers.ofByteArray(data));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(put.body()).isEqualTo("{\"committedSize\":\"" + data.length + "\"}");

    HttpResponse<byte[]> get = h.getBytes("/raw/files/photos/cat.jpg");
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValueAsLong("content-length")).hasValue(data.length);
    assertThat(get.body()).isEqualTo(data);

    HttpResponse<String> head = head("/raw/files/photos/cat.jpg");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValueAsLong("content-length")).hasValue(data.length);
    assertThat(head.headers().firstValue("x-complete")).hasValue("true");

    HttpResponse<byte[]> range = h.getBytes("/raw/files/photos/cat.jpg", "Range", "bytes=1000-1999");
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.headers().firstValue("content-range")).hasValue("bytes 1000-1999/" + data.length);
    assertThat(range.body()).isEqualTo(Arrays.copyOfRange(data, 1000, 2000));

    HttpResponse<byte[]> suffix = h.getBytes("/raw/files/photos/cat.jpg", "Range", "bytes=-10");
    assertThat(suffix.statusCode()).isEqualTo(206);
    assertThat(suffix.body()).isEqualTo(Arrays.copyOfRange(data, data.length - 10, data.length));

    HttpResponse<String> past = h.get("/raw/files/photos/cat.jpg", "Range", "bytes=" + data.length + "-");
    assertThat(past.statusCode()).isEqualTo(416);
    assertThat(past.headers().firstValue("content-range")).hasValue("bytes */" + data.length);
    assertThat(past.body()).contains("\"code\":11");
  }

  @Test
  void casUpload_isVerified() throws Exception {
    byte[] data = random(300_000, 12);
    String hash = sha256(data);
    HttpResponse<String> wrong =
        h.send("PUT", "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + data.length,
            BodyPublishers.ofByteArray(random(300_000, 13)));
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(wrong.body()).contains("content hashes to sha256:" + sha256(random(300_000, 13)));
    assertThat(h.get("/raw/blobs/" + hash + "/" + data.length).statusCode()).isEqualTo(404);

    HttpResponse<String> ok =
        h.send("PUT", "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + data.length,
            BodyPublishers.ofByteArray(data));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(h.getBytes("/raw/blobs/" + hash + "/" + data.length).body()).isEqualTo(data);
    assertThat(head("/raw/blobs/" + hash + "/" + data.length).headers().firstValueAsLong("content-length"))
        .hasValue(data.length);
  }

  @Test
  void cutUpload_resumesFromTheCommittedSize() throws Exception {
    byte[] data = random(6 * 1024 * 1024, 14);
    String name = "/raw/files/big.bin";
    long sent = 3 * 1024 * 1024 + 5000;
    assertThatThrownBy(
            () -> h.send("PUT", name, BodyPublishers.fromPublisher(new FailingAfter(data, sent))))
        .hasStackTraceContaining("cut on purpose");

    // The cut request's write winds down on its own; wait until the committed size settles.
    long committed = -1;
    long previous = -2;
    for (int i = 0; i < 100 && (committed <= 0 || committed != previous); i++) {
      Thread.sleep(100);
      HttpResponse<String> status = head(name);
      if (status.statusCode() == 200) {
        previous = committed;
        committed = Long.parseLong(status.headers().firstValue("x-committed-size").orElseThrow());
        assertThat(status.headers().firstValue("x-complete")).hasValue("false");
      }
    }
    assertThat(committed).isPositive().isLessThanOrEqualTo(sent);
    // Nothing half-written is visible.
    assertThat(h.get(name).statusCode()).isEqualTo(404);

    HttpResponse<String> wrongOffset =
        h.send("PUT", name + "?offset=" + (committed + 1), BodyPublishers.ofByteArray(new byte[1]));
    assertThat(wrongOffset.statusCode()).isEqualTo(400);
    assertThat(wrongOffset.body()).contains("does not match the committed size " + committed);

    byte[] rest = Arrays.copyOfRange(data, (int) committed, data.length);
    HttpResponse<String> resumed = h.send("PUT", name + "?offset=" + committed, BodyPublishers.ofByteArray(rest));
    assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
    assertThat(h.getBytes(name).body()).isEqualTo(data);
  }

  @Test
  void casUpload_resumedAtOnceAfterACut_storesIdenticalBytes() throws Exception {
    // The resume races the end of the cut request, as a browser retrying at once does.
    for (int round = 0; round < 4; round++) {
      byte[] data = random(8 * 1024 * 1024, 40 + round);
      String hash = sha256(data);
      String name = "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + data.length;
      long cutAt = 3 * 1024 * 1024 + 777L * round;
      assertThatThrownBy(
              () -> h.send("PUT", name, BodyPublishers.fromPublisher(new FailingAfter(data, cutAt))))
          .hasStackTraceContaining("cut on purpose");
      HttpResponse<String> done = null;
      for (int attempt = 0; attempt < 20; attempt++) {
        HttpResponse<String> status = head(name);
        long committed = Long.parseLong(status.headers().firstValue("x-committed-size").orElse("0"));
        done = h.send("PUT", name + "?offset=" + committed,
            BodyPublishers.ofByteArray(Arrays.copyOfRange(data, (int) committed, data.length)));
        if (done.statusCode() == 200) {
          break;
        }
      }
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      assertThat(h.getBytes("/raw/blobs/" + hash + "/" + data.length).body()).isEqualTo(data);
    }
  }

  @Test
  void badRequests_getJsonErrors() throws Exception {
    HttpResponse<String> missing = h.get("/raw/files/none");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("\"code\":5");
    assertThat(head("/raw/files/none").statusCode()).isEqualTo(404);

    HttpResponse<String> uploadName = h.get("/raw/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(new byte[1]) + "/1");
    assertThat(uploadName.statusCode()).isEqualTo(400);
    assertThat(uploadName.body()).contains("is an upload name");

    HttpResponse<String> badOffset = h.send("PUT", "/raw/files/a?offset=x", BodyPublishers.ofString("x"));
    assertThat(badOffset.statusCode()).isEqualTo(400);
    assertThat(badOffset.body()).contains("offset 'x' is not a number");

    HttpResponse<String> delete = h.send("DELETE", "/raw/files/a", BodyPublishers.noBody());
    assertThat(delete.statusCode()).isEqualTo(405);
    assertThat(delete.headers().firstValue("allow")).hasValue("GET, HEAD, PUT, POST");

    HttpResponse<String> page = h.get("/upload");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<input type=\"file\" id=\"file\">");
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
