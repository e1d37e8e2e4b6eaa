package dev.bytestreams3.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a loopback port in front of an S3 endpoint that can go dark: while dark it
 * accepts connections and takes their bytes but answers nothing, on new connections and on those
 * already open. When light comes back, every connection opened before is cut (as a path that lost
 * its state would), and new ones reach the endpoint again. Closing it ends every thread it started.
 */
public final class BlackHoleProxy implements AutoCloseable {

  private final ServerSocket server;
  private final InetSocketAddress upstream;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean dark;
  private volatile boolean closed;
  private volatile long generation;

  public BlackHoleProxy(URI upstream) throws IOException {
    this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
    this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "black-hole-accept");
    accept.setDaemon(true);
    accept.start();
  }

  /** The proxy's endpoint, e.g. {@code http://127.0.0.1:40123}. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  /** Stops answering: bytes are taken and nothing comes back. */
  public void goDark() {
    dark = true;
  }

  /** Cuts every connection opened so far and lets new ones through again. */
  public void comeBack() {
    generation++;
    dark = false;
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      sockets.add(client);
      Thread t = new Thread(() -> serve(client), "black-hole-conn");
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(Socket client) {
    long born = generation;
    try {
      while (dark && generation == born && !closed) {
        // A dark path: read and drop, answer nothing.
        drain(client);
      }
      if (generation != born || closed) {
        return;
      }
      Socket up = new Socket();
      sockets.add(up);
      up.connect(upstream, 5_000);
      Thread back = new Thread(() -> pump(up, client, born), "black-hole-back");
      back.setDaemon(true);
      back.start();
      pump(client, up, born);
    } catch (IOException e) {
      // The connection ended; nothing to report.
    } finally {
      closeQuietly(client);
    }
  }

  private void drain(Socket client) throws IOException {
    client.setSoTimeout(50);
    try {
      if (client.getInputStream().read(new byte[8192]) < 0) {
        throw new IOException("closed");
      }
    } catch (java.net.SocketTimeoutException e) {
      // Nothing arrived: look at the light again.
    }
  }

  /** Copies {@code from} to {@code to} while light; while dark, holds the bytes back. */
  private void pump(Socket from, Socket to, long born) {
    byte[] buf = new byte[64 * 1024];
    try {
      from.setSoTimeout(50);
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      while (!closed && generation == born) {
        if (dark) {
          Thread.sleep(20);
          continue;
        }
        int n;
        try {
          n = in.read(buf);
        } catch (java.net.SocketTimeoutException e) {
          continue;
        }
        if (n < 0) {
          break;
        }
        out.write(buf, 0, n);
      }
    } catch (IOException | InterruptedException e) {
      // Cut, or the other side ended.
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private void closeQuietly(Socket s) {
    sockets.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
