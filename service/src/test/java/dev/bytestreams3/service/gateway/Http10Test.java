package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest.BodyPublishers;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/1.0 clients on a plain socket: no chunks, which HTTP/1.0 does not have. */
class Http10Test {

  private static final String LINE = "{\"result\":{\"data\":\"aGVsbG8=\"}}\n";

  @TempDir Path dir;

  private GatewayHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new GatewayHarness(dir);
    assertThat(h.send("POST", "/v1/bytestream:write",
            BodyPublishers.ofString("{\"resourceName\":\"files/h\",\"data\":\"aGVsbG8=\",\"finishWrite\":true}"))
        .statusCode()).isEqualTo(200);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void http10Stream_isSentPlainAndEndsWithTheConnection() throws Exception {
    RawHttp.Answer a = RawHttp.exchange(h.http.port(), "GET /v1/files/h:read HTTP/1.0\r\n\r\n");
    assertThat(a.statusLine()).isEqualTo("HTTP/1.0 200 OK");
    assertThat(a.headers()).contains("content-type: application/json\r\n")
        .contains("connection: close\r\n")
        .doesNotContainIgnoringCase("transfer-encoding");
    assertThat(a.body()).isEqualTo(LINE);
    assertThat(a.closedByServer()).isTrue();
  }

  @Test
  void http10KeepAlive_stillEndsAStreamByClosing() throws Exception {
    RawHttp.Answer a = RawHttp.exchange(h.http.port(),
        "GET /v1/files/h:read HTTP/1.0\r\nConnection: keep-alive\r\nHost: 127.0.0.1\r\n\r\n");
    assertThat(a.statusLine()).isEqualTo("HTTP/1.0 200 OK");
    assertThat(a.headers()).contains("connection: close\r\n").doesNotContainIgnoringCase("transfer-encoding");
    assertThat(a.body()).isEqualTo(LINE);
    assertThat(a.closedByServer()).isTrue();
  }

  @Test
  void http10Error_andFixedLengthAnswers_keepTheirLength() throws Exception {
    RawHttp.Answer missing = RawHttp.exchange(h.http.port(), "GET /v1/files/none:read HTTP/1.0\r\n\r\n");
    assertThat(missing.statusLine()).isEqualTo("HTTP/1.0 404 Not Found");
    assertThat(missing.headers()).doesNotContainIgnoringCase("transfer-encoding");
    assertThat(missing.body()).isEqualTo("{\"error\":{\"code\":5,\"message\":\"'files/none' not found\",\"details\":[]}}\n");
    assertThat(missing.closedByServer()).isTrue();

    RawHttp.Answer status = RawHttp.exchange(h.http.port(), "GET /v1/files/h:queryWriteStatus HTTP/1.0\r\n\r\n");
    assertThat(status.statusLine()).isEqualTo("HTTP/1.0 200 OK");
    assertThat(status.headers()).contains("content-length: 37\r\n").doesNotContainIgnoringCase("transfer-encoding");
    assertThat(status.body()).isEqualTo("{\"committedSize\":\"5\",\"complete\":true}");
    assertThat(status.closedByServer()).isTrue();
  }

  @Test
  void http11_isStillChunked() throws Exception {
    RawHttp.Answer a = RawHttp.exchange(h.http.port(),
        "GET /v1/files/h:read HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assertThat(a.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(a.headers()).contains("transfer-encoding: chunked\r\n");
    assertThat(a.body()).isEqualTo(Integer.toHexString(LINE.length()) + "\r\n" + LINE + "\r\n0\r\n\r\n");
  }
}
