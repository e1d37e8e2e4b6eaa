package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamProto.ReadResponse;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader that stops reading stops the service: the gateway asks the Read for the next chunk only
 * once the HTTP connection took the last one, so a paused client holds the server to a few MiB.
 */
class SlowReaderTest {

  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 64 * MIB;

  @TempDir Path dir;

  private final AtomicLong bytesSent = new AtomicLong();
  private GatewayHarness h;

  @BeforeEach
  void start() throws Exception {
    ServerInterceptor counting =
        new ServerInterceptor() {
          @Override
          public <Q, A> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            if (!call.getMethodDescriptor().getFullMethodName().endsWith("/Read")) {
              return next.startCall(call, headers);
            }
            return next.startCall(
                new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                  @Override
                  public void sendMessage(A message) {
                    bytesSent.addAndGet(((ReadResponse) message).getData().size());
                    super.sendMessage(message);
                  }
                },
                headers);
          }
        };
    h = new GatewayHarness(dir, GatewaySettings.defaults(), List.of(), List.of(counting));
    byte[] data = GatewayTest.random(SIZE, 31);
    assertThat(h.send("PUT", "/raw/files/big", BodyPublishers.ofByteArray(data)).statusCode()).isEqualTo(200);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  private long pausedThenDrained(String path) throws Exception {
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(64 * 1024);
      s.connect(new InetSocketAddress("127.0.0.1", h.http.port()));
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      long total = in.read(buf);
      Thread.sleep(1500);
      long whilePaused = bytesSent.get();
      System.out.println(path + ": " + whilePaused + " bytes sent while the client paused");
      // Socket buffers and one chunk in hand: a few MiB, nowhere near the 64 MiB blob.
      assertThat(whilePaused).as("bytes the service sent while the client paused").isLessThanOrEqualTo(12L * MIB);
      int n;
      while ((n = in.read(buf)) > 0) {
        total += n;
      }
      return total;
    }
  }

  @Test
  void ndjsonRead_deadlinePassingMidStream_endsWithAnErrorLine() throws Exception {
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(64 * 1024);
      s.connect(new InetSocketAddress("127.0.0.1", h.http.port()));
      s.getOutputStream().write(("GET /v1/files/big:read HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Grpc-Timeout: 700m\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
      all.write(buf, 0, in.read(buf));
      Thread.sleep(1500);
      int n;
      while ((n = in.read(buf)) > 0) {
        all.write(buf, 0, n);
      }
      String response = all.toString(StandardCharsets.US_ASCII);
      assertThat(response).startsWith("HTTP/1.1 200 OK");
      assertThat(response).contains("{\"result\":{\"data\":\"");
      String[] lines = response.trim().split("\n");
      String last = lines[lines.length - 1];
      // Chunked encoding may end with its zero-size chunk; the last JSON line is the error.
      for (int i = lines.length - 1; i >= 0 && !lines[i].startsWith("{"); i--) {
        last = lines[i - 1];
      }
      assertThat(last).startsWith("{\"error\":{\"code\":4,");
    }
  }

  @Test
  void rawGet_pausedClientHoldsTheReadBack() throws Exception {
    long received = pausedThenDrained("/raw/files/big");
    assertThat(received).isGreaterThan(SIZE);
    assertThat(bytesSent.get()).isEqualTo(SIZE);
  }

  @Test
  void ndjsonRead_pausedClientHoldsTheReadBack() throws Exception {
    long received = pausedThenDrained("/v1/files/big:read");
    assertThat(received).isGreaterThan(SIZE * 4L / 3);
    assertThat(bytesSent.get()).isEqualTo(SIZE);
  }
}
