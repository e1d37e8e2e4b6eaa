package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 on the HTTP port: a response ends its stream and nothing follows it on that stream. A
 * reset sent after a complete response made Java's HttpClient (17) hang now and then, or fail the
 * exchange with a protocol error.
 */
class Http2StreamEndTest {

  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int GOAWAY = 7;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int ACK = 0x1;

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

  @Test
  void responsesWithPriorKnowledge_endTheirStream_andNoResetFollows() throws Exception {
    for (String path :
        List.of("/healthz", "/raw/files/missing", "/v1/files/missing:queryWriteStatus")) {
      for (int i = 0; i < 3; i++) {
        List<String> after = framesAfterTheResponse(path);
        assertThat(after).as("frames on stream 1 after the end of the response to %s", path).isEmpty();
      }
    }
  }

  /**
   * Sends a GET of {@code path} as stream 1 of a new HTTP/2 connection (prior knowledge), reads
   * until the response ends its stream, then for 300 ms more; returns what came on stream 1 after
   * the end, and any GOAWAY.
   */
  private List<String> framesAfterTheResponse(String path) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", h.http.port()), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(frame(SETTINGS, 0, 0, new byte[0]));
      out.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, requestHeaders(path)));
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      List<String> after = new ArrayList<>();
      boolean ended = false;
      long quietUntil = Long.MAX_VALUE;
      while (System.nanoTime() < quietUntil) {
        int[] f;
        try {
          f = readFrameHeader(in);
        } catch (SocketTimeoutException e) {
          break;
        }
        if (f == null) {
          break;
        }
        int length = f[0];
        int type = f[1];
        int flags = f[2];
        int stream = f[3];
        byte[] payload = in.readNBytes(length);
        if (type == SETTINGS && (flags & ACK) == 0) {
          out.write(frame(SETTINGS, ACK, 0, new byte[0]));
          out.flush();
        }
        if (type == GOAWAY) {
          after.add("GOAWAY");
        }
        if (stream != 1) {
          continue;
        }
        if (ended) {
          after.add(type == RST_STREAM ? "RST_STREAM " + errorCode(payload) : "frame type " + type);
        } else if ((type == HEADERS || type == DATA) && (flags & END_STREAM) != 0) {
          ended = true;
          quietUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
          s.setSoTimeout(300);
        }
      }
      assertThat(ended).as("the response to %s ended its stream", path).isTrue();
      return after;
    }
  }

  /** GET {@code path} over http, HPACK-coded without Huffman or the dynamic table. */
  private byte[] requestHeaders(String path) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x82); // :method GET
    b.write(0x86); // :scheme http
    literal(b, 0x04, path); // :path
    literal(b, 0x01, "127.0.0.1:" + h.http.port()); // :authority
    return b.toByteArray();
  }

  /** A header field whose name is static-table entry {@code nameIndex}, not indexed. */
  private static void literal(ByteArrayOutputStream b, int nameIndex, String value) {
    byte[] v = value.getBytes(StandardCharsets.US_ASCII);
    b.write(nameIndex); // literal without indexing, indexed name (index < 15)
    b.write(v.length); // no Huffman, length < 127
    b.write(v, 0, v.length);
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    byte[] f = new byte[9 + payload.length];
    f[0] = (byte) (payload.length >>> 16);
    f[1] = (byte) (payload.length >>> 8);
    f[2] = (byte) payload.length;
    f[3] = (byte) type;
    f[4] = (byte) flags;
    f[5] = (byte) (stream >>> 24);
    f[6] = (byte) (stream >>> 16);
    f[7] = (byte) (stream >>> 8);
    f[8] = (byte) stream;
    System.arraycopy(payload, 0, f, 9, payload.length);
    return f;
  }

  /** Length, type, flags and stream of the next frame; null at the end of the connection. */
  private static int[] readFrameHeader(DataInputStream in) throws IOException {
    byte[] h = in.readNBytes(9);
    if (h.length < 9) {
      return null;
    }
    int length = ((h[0] & 0xff) << 16) | ((h[1] & 0xff) << 8) | (h[2] & 0xff);
    int stream = ((h[5] & 0x7f) << 24) | ((h[6] & 0xff) << 16) | ((h[7] & 0xff) << 8) | (h[8] & 0xff);
    return new int[] {length, h[3] & 0xff, h[4] & 0xff, stream};
  }

  private static int errorCode(byte[] payload) {
    return payload.length < 4
        ? -1
        : ((payload[0] & 0xff) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8)
            | (payload[3] & 0xff);
  }
}
