package dev.bytestreams3.storage.s3;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1 proxy on a loopback port between a client and its S3 that makes S3 slow or breaks
 * requests on purpose: it delays the first byte of every response (as a real S3 a few
 * milliseconds away does), holds each connection's body bytes to a set rate, and, per kind of S3
 * request, answers {@code 503 SlowDown} or {@code 500 InternalError}, resets the connection in the
 * middle of the request or the response body, or (for a window) accepts connections and never
 * answers. It counts the requests of each kind, and of each kind whose path holds a watched
 * fragment. Faults are drawn from a seeded {@link Random}. Every request goes upstream on a
 * connection of its own and every answer closes the client's connection, so the proxy never has
 * to find where a response ends. Bounded: at most {@link #MAX_CONNECTIONS} connections are served
 * at once, and none lives longer than the socket timeout without traffic.
 */
public final class FaultProxy implements AutoCloseable {

  /** What an S3 request does, told from its method, query string and headers. */
  public enum Kind {
    HEAD,
    GET_RANGE,
    GET,
    LIST,
    PUT_OBJECT,
    UPLOAD_PART,
    CREATE_MULTIPART,
    COMPLETE_MULTIPART,
    DELETE,
    OTHER
  }

  /** What the proxy does to one request. */
  public enum Fault {
    NONE,
    SLOW_DOWN_503,
    INTERNAL_ERROR_500,
    /** Forwards half the request body upstream, then resets both connections. */
    RESET_REQUEST_BODY,
    /** Forwards the response head and half its body, then resets the client's connection. */
    RESET_RESPONSE_BODY
  }

  public static final int MAX_CONNECTIONS = 256;

  /** The time to a response's first byte of an S3 bucket in the client's own region. */
  public static final long SAME_REGION_LATENCY_MILLIS = 20;
  private static final int SOCKET_TIMEOUT_MILLIS = 60_000;
  private static final int MAX_HEAD_BYTES = 64 * 1024;
  private static final int BUFFER_BYTES = 64 * 1024;

  private final URI upstream;
  private final ServerSocket listener;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);
  private final Random random;
  private final Map<Kind, Map<Fault, Double>> rates = new ConcurrentHashMap<>();
  private final Map<Kind, AtomicLong> requests = new EnumMap<>(Kind.class);
  private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);
  private final List<Socket> open = new ArrayList<>();
  private final Map<String, Map<Kind, AtomicLong>> watched = new ConcurrentHashMap<>();
  private volatile long latencyMillis;
  private volatile long bytesPerSecond;
  private volatile long blackHoleUntilNanos;
  private volatile boolean closed;
  private final AtomicLong blackHoled = new AtomicLong();

  private FaultProxy(URI upstream, long seed) throws IOException {
    this.upstream = requireNonNull(upstream, "upstream");
    this.random = new Random(seed);
    for (Kind k : Kind.values()) {
      requests.put(k, new AtomicLong());
    }
    for (Fault f : Fault.values()) {
      injected.put(f, new AtomicLong());
    }
    this.listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "fault-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a proxy to {@code upstream} (an {@code http://host:port} URI) drawing faults with {@code seed}. */
  public static FaultProxy start(URI upstream, long seed) throws IOException {
    return new FaultProxy(upstream, seed);
  }

  /**
   * Starts a faithful proxy to {@code upstream} whose every response starts {@link
   * #SAME_REGION_LATENCY_MILLIS} after the upstream's, as an S3 in the client's region would.
   */
  public static FaultProxy sameRegion(URI upstream) throws IOException {
    return start(upstream, 0).latency(SAME_REGION_LATENCY_MILLIS);
  }

  /** Where the server under test should send its S3 requests. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /** From now on, {@code fault} happens to a {@code rate} (0..1) share of requests of {@code kind}. */
  public FaultProxy fault(Kind kind, Fault fault, double rate) {
    if (rate < 0 || rate > 1) {
      throw new IllegalArgumentException("rate: " + rate + " (expected: 0..1)");
    }
    rates.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).put(fault, rate);
    return this;
  }

  /** The same fault at the same rate for every kind of request. */
  public FaultProxy faultEverywhere(Fault fault, double rate) {
    for (Kind k : Kind.values()) {
      fault(k, fault, rate);
    }
    return this;
  }

  /** Delays the first byte of every response by {@code millis}. */
  public FaultProxy latency(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("millis: " + millis + " (expected: >= 0)");
    }
    this.latencyMillis = millis;
    return this;
  }

  /**
   * Holds the body bytes each connection carries, each way, to {@code bytesPerSecond}; 0 lifts
   * the limit. Applies to exchanges that start from now on.
   */
  public FaultProxy bandwidth(long bytesPerSecond) {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bytesPerSecond: " + bytesPerSecond + " (expected: >= 0)");
    }
    this.bytesPerSecond = bytesPerSecond;
    return this;
  }

  /** Back to a faithful proxy: no faults, no latency, no bandwidth limit, no black hole. */
  public FaultProxy heal() {
    rates.clear();
    latencyMillis = 0;
    bytesPerSecond = 0;
    blackHoleUntilNanos = 0;
    return this;
  }

  /**
   * From now on, also counts the requests whose path (before any query) contains {@code
   * fragment}, e.g. a key prefix; read them with {@link #requests(Kind, String)}.
   */
  public FaultProxy watch(String fragment) {
    requireNonNull(fragment, "fragment");
    watched.computeIfAbsent(
        fragment,
        f -> {
          Map<Kind, AtomicLong> counts = new EnumMap<>(Kind.class);
          for (Kind k : Kind.values()) {
            counts.put(k, new AtomicLong());
          }
          return counts;
        });
    return this;
  }

  /**
   * For {@code millis} from now, connections are accepted and requests read but never answered;
   * at the end of the window every held connection is reset.
   */
  public void blackHole(long millis) {
    blackHoleUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
  }

  /** Requests of {@code kind} seen so far, answered or not. */
  public long requests(Kind kind) {
    return requests.get(kind).get();
  }

  /** Requests of {@code kind} whose path holds {@code fragment}, seen since it was watched. */
  public long requests(Kind kind, String fragment) {
    Map<Kind, AtomicLong> counts = watched.get(fragment);
    if (counts == null) {
      throw new IllegalArgumentException("fragment '" + fragment + "' is not watched");
    }
    return counts.get(kind).get();
  }

  /** Every request seen so far, of every kind, answered or not. */
  public long totalRequests() {
    return requests.values().stream().mapToLong(AtomicLong::get).sum();
  }

  /** How often {@code fault} was injected so far. */
  public long injected(Fault fault) {
    return injected.get(fault).get();
  }

  /** Requests that arrived during a black hole and were never answered. */
  public long blackHoled() {
    return blackHoled.get();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (!connections.tryAcquire()) {
        reset(client);
        continue;
      }
      synchronized (open) {
        open.add(client);
      }
      threads.execute(
          () -> {
            try {
              serve(client);
            } catch (IOException | RuntimeException e) {
              // The client or S3 went away, or a fault ended the exchange: nothing to report.
            } finally {
              synchronized (open) {
                open.remove(client);
              }
              closeQuietly(client);
              connections.release();
            }
          });
    }
  }

  private void serve(Socket client) throws IOException {
    client.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
    // Buffered, so that heads are not read a system call per byte; every later read of the
    // request goes through the same stream.
    InputStream in = new BufferedInputStream(client.getInputStream(), BUFFER_BYTES);
    byte[] head = readHead(in);
    if (head == null) {
      return;
    }
    Request r = Request.parse(head);
    requests.get(r.kind).incrementAndGet();
    for (Map.Entry<String, Map<Kind, AtomicLong>> w : watched.entrySet()) {
      if (r.path.contains(w.getKey())) {
        w.getValue().get(r.kind).incrementAndGet();
      }
    }
    Pace pace = new Pace(bytesPerSecond);
    if (System.nanoTime() < blackHoleUntilNanos) {
      blackHoled.incrementAndGet();
      holdUntilTheWindowEnds();
      reset(client);
      return;
    }
    Fault fault = draw(r.kind);
    if (fault == Fault.RESET_REQUEST_BODY && r.contentLength < 2) {
      fault = Fault.NONE;
    }
    if (fault != Fault.NONE) {
      injected.get(fault).incrementAndGet();
    }
    if (fault == Fault.SLOW_DOWN_503 || fault == Fault.INTERNAL_ERROR_500) {
      if (!r.expectsContinue) {
        // Drain the body so the client is not cut off while still sending.
        in.skipNBytes(r.contentLength);
      }
      delay();
      writeError(client.getOutputStream(), fault, r);
      return;
    }
    if (r.expectsContinue) {
      // Upstream never sees the Expect header: the proxy itself invites the body.
      client.getOutputStream().write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      client.getOutputStream().flush();
    }
    URI u = upstream;
    try (Socket s3 = new Socket(u.getHost(), u.getPort())) {
      s3.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
      OutputStream up = s3.getOutputStream();
      up.write(r.headWithConnectionClose());
      if (fault == Fault.RESET_REQUEST_BODY) {
        copy(in, up, r.contentLength / 2, pace);
        up.flush();
        reset(s3);
        reset(client);
        return;
      }
      copy(in, up, r.contentLength, pace);
      up.flush();
      InputStream down = new BufferedInputStream(s3.getInputStream(), BUFFER_BYTES);
      byte[] responseHead = readHead(down);
      if (responseHead == null) {
        reset(client);
        return;
      }
      delay();
      OutputStream out = client.getOutputStream();
      out.write(Request.withConnectionClose(responseHead));
      if (fault == Fault.RESET_RESPONSE_BODY) {
        long length = Request.contentLength(responseHead);
        copy(down, out, length > 1 ? length / 2 : 0, pace.restart());
        out.flush();
        reset(client);
        return;
      }
      copy(down, out, Long.MAX_VALUE, pace.restart());
      out.flush();
    }
  }

  private Fault draw(Kind kind) {
    Map<Fault, Double> r = rates.get(kind);
    if (r == null || r.isEmpty()) {
      return Fault.NONE;
    }
    double x;
    synchronized (random) {
      x = random.nextDouble();
    }
    for (Map.Entry<Fault, Double> e : r.entrySet()) {
      x -= e.getValue();
      if (x < 0) {
        return e.getKey();
      }
    }
    return Fault.NONE;
  }

  private void delay() {
    long ms = latencyMillis;
    if (ms > 0) {
      sleep(ms);
    }
  }

  private void holdUntilTheWindowEnds() {
    long left;
    while (!closed && (left = blackHoleUntilNanos - System.nanoTime()) > 0) {
      sleep(Math.min(100, TimeUnit.NANOSECONDS.toMillis(left) + 1));
    }
  }

  private static void sleep(long ms) {
    sleep(ms, 0);
  }

  private static void sleep(long ms, int nanos) {
    try {
      Thread.sleep(ms, nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void writeError(OutputStream out, Fault fault, Request r) throws IOException {
    boolean slowDown = fault == Fault.SLOW_DOWN_503;
    String code = slowDown ? "SlowDown" : "InternalError";
    String message =
        slowDown ? "Please reduce your request rate." : "We encountered an internal error. Please try again.";
    byte[] body =
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>"
                + message + "</Message><RequestId>fault-proxy</RequestId></Error>")
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 " + (slowDown ? "503 Slow Down" : "500 Internal Server Error") + "\r\n"
            + "Content-Type: application/xml\r\n"
            + "x-amz-request-id: fault-proxy\r\n"
            + "Content-Length: " + body.length + "\r\n"
            + "Connection: close\r\n\r\n";
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    if (r.kind != Kind.HEAD) {
      out.write(body);
    }
    out.flush();
  }

  /** Reads up to and including the blank line ending an HTTP head; {@code null} at a clean EOF. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        if (b.size() == 0) {
          return null;
        }
        throw new IOException("connection closed inside an HTTP head");
      }
      b.write(c);
      if (b.size() > MAX_HEAD_BYTES) {
        throw new IOException("HTTP head longer than " + MAX_HEAD_BYTES + " bytes");
      }
      matched = (c == '\r' && (matched == 0 || matched == 2)) || (c == '\n' && (matched == 1 || matched == 3))
          ? matched + 1
          : (c == '\r' ? 1 : 0);
    }
    return b.toByteArray();
  }

  /**
   * Copies {@code n} bytes, or up to the end of {@code in} when {@code n} is {@link
   * Long#MAX_VALUE}, at the pace {@code pace} allows.
   */
  private static void copy(InputStream in, OutputStream out, long n, Pace pace) throws IOException {
    byte[] buf = new byte[pace.chunkBytes()];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        if (n == Long.MAX_VALUE) {
          return;
        }
        throw new IOException("connection closed with " + left + " body bytes to go");
      }
      pace.await(r);
      out.write(buf, 0, r);
      left -= r;
    }
  }

  /**
   * The rate one direction of one connection may carry body bytes at: each chunk waits until the
   * bytes before it would have taken their time at that rate. Unlimited at 0.
   */
  private static final class Pace {
    private final long bytesPerSecond;
    private long startNanos = System.nanoTime();
    private long sent;

    Pace(long bytesPerSecond) {
      this.bytesPerSecond = bytesPerSecond;
    }

    /** The same rate, counted afresh from now (for the other direction). */
    Pace restart() {
      return new Pace(bytesPerSecond);
    }

    /** Chunks of about a fiftieth of a second's bytes, so that the rate holds at a fine grain. */
    int chunkBytes() {
      return bytesPerSecond == 0
          ? BUFFER_BYTES
          : (int) Math.max(1024, Math.min(BUFFER_BYTES, bytesPerSecond / 50));
    }

    /** Waits until {@code bytes} more may go. */
    void await(int bytes) {
      if (bytesPerSecond == 0) {
        return;
      }
      long dueNanos = startNanos + sent * 1_000_000_000L / bytesPerSecond;
      long early = dueNanos - System.nanoTime();
      if (early > 0) {
        sleep(TimeUnit.NANOSECONDS.toMillis(early), (int) (early % 1_000_000));
      }
      sent += bytes;
    }
  }

  /** Closes {@code s} with a TCP reset rather than an orderly close. */
  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (IOException e) {
      // Already closed.
    }
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing left to do.
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    synchronized (open) {
      for (Socket s : open) {
        reset(s);
      }
    }
    threads.shutdownNow();
  }

  /** The head of one request, and what the proxy needs from it. */
  private static final class Request {
    final String head;
    final Kind kind;
    final String path;
    final long contentLength;
    final boolean expectsContinue;

    private Request(
        String head, Kind kind, String path, long contentLength, boolean expectsContinue) {
      this.head = head;
      this.kind = kind;
      this.path = path;
      this.contentLength = contentLength;
      this.expectsContinue = expectsContinue;
    }

    static Request parse(byte[] bytes) throws IOException {
      String head = new String(bytes, StandardCharsets.ISO_8859_1);
      String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
      if (requestLine.length != 3) {
        throw new IOException("not an HTTP request line: " + requestLine[0]);
      }
      if (header(head, "transfer-encoding") != null) {
        // The server sends every body with a Content-Length; a chunked one would need parsing.
        throw new IOException("chunked request bodies are not supported");
      }
      String method = requestLine[0];
      String target = requestLine[1];
      String query = target.contains("?") ? target.substring(target.indexOf('?') + 1) : "";
      boolean hasRange = header(head, "range") != null;
      long length = contentLength(bytes);
      String expect = header(head, "expect");
      return new Request(
          head,
          kindOf(method, query, hasRange),
          target.contains("?") ? target.substring(0, target.indexOf('?')) : target,
          Math.max(0, length),
          expect != null && expect.equalsIgnoreCase("100-continue"));
    }

    static Kind kindOf(String method, String query, boolean hasRange) {
      boolean uploadId = hasParam(query, "uploadId");
      switch (method) {
        case "HEAD":
          return Kind.HEAD;
        case "GET":
          if (uploadId || hasParam(query, "uploads") || hasParam(query, "list-type")) {
            return Kind.LIST;
          }
          return hasRange ? Kind.GET_RANGE : Kind.GET;
        case "PUT":
          return hasParam(query, "partNumber") && uploadId ? Kind.UPLOAD_PART : Kind.PUT_OBJECT;
        case "POST":
          if (uploadId) {
            return Kind.COMPLETE_MULTIPART;
          }
          return hasParam(query, "uploads") ? Kind.CREATE_MULTIPART : Kind.OTHER;
        case "DELETE":
          return Kind.DELETE;
        default:
          return Kind.OTHER;
      }
    }

    private static boolean hasParam(String query, String name) {
      for (String p : query.split("&")) {
        if (p.equals(name) || p.startsWith(name + "=")) {
          return true;
        }
      }
      return false;
    }

    /** The head with its {@code Connection} header replaced by {@code Connection: close}. */
    byte[] headWithConnectionClose() {
      return withConnectionClose(head.getBytes(StandardCharsets.ISO_8859_1));
    }

    static byte[] withConnectionClose(byte[] headBytes) {
      String h = new String(headBytes, StandardCharsets.ISO_8859_1);
      StringBuilder b = new StringBuilder();
      String[] lines = h.split("\r\n");
      b.append(lines[0]).append("\r\n");
      for (int i = 1; i < lines.length; i++) {
        String l = lines[i];
        String lower = l.toLowerCase(Locale.ROOT);
        if (l.isEmpty() || lower.startsWith("connection:") || lower.startsWith("keep-alive:")
            || lower.startsWith("expect:")) {
          continue;
        }
        b.append(l).append("\r\n");
      }
      b.append("Connection: close\r\n\r\n");
      return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The head's Content-Length, or -1 when it has none. */
    static long contentLength(byte[] headBytes) {
      String v = header(new String(headBytes, StandardCharsets.ISO_8859_1), "content-length");
      return v == null ? -1 : Long.parseLong(v.trim());
    }

    private static String header(String head, String name) {
      for (String l : head.split("\r\n")) {
        int colon = l.indexOf(':');
        if (colon > 0 && l.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return l.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }
}
