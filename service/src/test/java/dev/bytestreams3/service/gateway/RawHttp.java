package dev.bytestreams3.service.gateway;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP client on a plain socket, for what the JDK's client hides: the exact status line,
 * framing, trailers, and whether the server closes the connection.
 */
final class RawHttp {

  /** What came back: every byte until the server closed, and whether it did within the time. */
  record Answer(String text, boolean closedByServer) {

    String statusLine() {
      return text.substring(0, text.indexOf("\r\n"));
    }

    /** The header block, names lower-cased by the server, without the status line. */
    String headers() {
      return text.substring(text.indexOf("\r\n") + 2, text.indexOf("\r\n\r\n") + 2);
    }

    String body() {
      return text.substring(text.indexOf("\r\n\r\n") + 4);
    }
  }

  private RawHttp() {}

  /** Sends {@code request} as it is and reads until the server closes or 10 s pass. */
  static Answer exchange(int port, String request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      boolean closed;
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
        }
        closed = true;
      } catch (java.net.SocketTimeoutException e) {
        closed = false;
      }
      return new Answer(out.toString(StandardCharsets.ISO_8859_1), closed);
    }
  }
}
