package dev.bytestreams3.service.gateway;

import static dev.bytestreams3.service.gateway.GatewayTest.random;
import static dev.bytestreams3.service.gateway.GatewayTest.results;
import static dev.bytestreams3.service.gateway.GatewayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read whose offset plus limit passes {@code Long.MAX_VALUE} returns every byte from the offset
 * to the end of the blob, whichever route asks: gRPC, the JSON gateway and the raw route.
 */
class ReadToTheEndTest {

  private static final long HUGE_LIMIT = Long.MAX_VALUE;

  @TempDir Path dir;

  private GatewayHarness h;
  private byte[] data;
  private String blob;

  @BeforeEach
  void start() throws Exception {
    h = new GatewayHarness(dir);
    data = random(300_000, 91);
    blob = "blobs/" + sha256(data) + "/" + data.length;
    HttpResponse<String> put =
        h.send("PUT", "/raw/uploads/" + UUID.randomUUID() + "/" + blob, BodyPublishers.ofByteArray(data));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void grpcRead_limitOverflowingTheOffset_returnsTheRestOfTheBlob() throws Exception {
    Iterator<ReadResponse> it =
        ByteStreamGrpc.newBlockingStub(h.channel)
            .read(
                ReadRequest.newBuilder()
                    .setResourceName(blob)
                    .setReadOffset(1)
                    .setReadLimit(HUGE_LIMIT)
                    .build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    it.forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));

    assertThat(out.toByteArray()).isEqualTo(Arrays.copyOfRange(data, 1, data.length));
  }

  @Test
  void gatewayRead_limitOverflowingTheOffset_returnsTheRestOfTheBlob() throws Exception {
    HttpResponse<String> r = h.get("/v1/" + blob + ":read?read_offset=1&read_limit=" + HUGE_LIMIT);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(results(r.body())).isEqualTo(Arrays.copyOfRange(data, 1, data.length));
  }

  @Test
  void rawRead_rangeEndingAtLongMax_returnsTheRestOfTheBlob() throws Exception {
    HttpResponse<byte[]> r = h.getBytes("/raw/" + blob, "Range", "bytes=1-" + HUGE_LIMIT);

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(r.headers().firstValue("content-range"))
        .hasValue("bytes 1-" + (data.length - 1) + "/" + data.length);
    assertThat(r.body()).isEqualTo(Arrays.copyOfRange(data, 1, data.length));
  }
}
