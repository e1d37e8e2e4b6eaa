package dev.bytestreams3.service.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback that passes bytes from the client on at no more than {@code
 * bytesPerSecond} (so a browser upload takes long enough to watch), and whose target can change
 * (as when a server is restarted on another port). Connections to a target that is gone are
 * closed, as a refused connection would be.
 */
final class SlowProxy implements AutoCloseable {

  private final ServerSocket server;
  private final long bytesPerSecond;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong clientBytes = new AtomicLong();
  private volatile int targetPort;

  SlowProxy(int targetPort, long bytesPerSecond) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.bytesPerSecond = bytesPerSecond;
    Thread t = new Thread(this::accept, "slow-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Bytes passed on from clients so far. */
  long clientBytes() {
    return clientBytes.get();
  }

  /** Sends new connections to {@code port} from now on. */
  void retarget(int port) {
    targetPort = port;
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      open.add(client);
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        open.add(upstream);
        pump(client, upstream, true);
        pump(upstream, client, false);
      } catch (IOException e) {
        close(client);
      }
    }
  }

  private void pump(Socket from, Socket to, boolean throttled) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[throttled ? 16 * 1024 : 64 * 1024];
              long start = System.nanoTime();
              long total = 0;
              try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  out.write(buf, 0, n);
                  total += n;
                  if (throttled) {
                    clientBytes.addAndGet(n);
                    long dueNanos = total * 1_000_000_000L / bytesPerSecond;
                    long sleepNanos = dueNanos - (System.nanoTime() - start);
                    if (sleepNanos > 0) {
                      Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
                    }
                  }
                }
              } catch (IOException e) {
                // One side closed; close the other below.
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              close(from);
              close(to);
            },
            "slow-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void close(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(this::close);
  }
}
