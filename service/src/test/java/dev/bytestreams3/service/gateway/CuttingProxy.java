package dev.bytestreams3.service.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback that passes everything through, except that it cuts the first
 * {@code maxCuts} connections whose client has sent more than {@code cutAfterBytes}, as a dropped
 * network would.
 */
final class CuttingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final long cutAfterBytes;
  private final int maxCuts;
  private final AtomicInteger cuts = new AtomicInteger();

  CuttingProxy(int targetPort, long cutAfterBytes, int maxCuts) throws IOException {
    this.maxCuts = maxCuts;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.cutAfterBytes = cutAfterBytes;
    Thread t = new Thread(this::accept, "proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** How many connections were cut. */
  int cuts() {
    return cuts.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        pump(client, upstream, true);
        pump(upstream, client, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  private boolean takeCut() {
    int c;
    do {
      c = cuts.get();
      if (c >= maxCuts) {
        return false;
      }
    } while (!cuts.compareAndSet(c, c + 1));
    return true;
  }

  private void pump(Socket from, Socket to, boolean fromClient) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              long total = 0;
              try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  out.write(buf, 0, n);
                  total += n;
                  if (fromClient && total > cutAfterBytes && takeCut()) {
                    break;
                  }
                }
              } catch (IOException e) {
                // One side closed; close the other below.
              }
              close(from);
              close(to);
            },
            "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
