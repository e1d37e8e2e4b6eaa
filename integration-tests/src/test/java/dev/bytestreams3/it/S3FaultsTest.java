package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.storage.s3.FaultProxy;
import dev.bytestreams3.storage.s3.FaultProxy.Fault;
import dev.bytestreams3.storage.s3.FaultProxy.Kind;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The server as its own process with a {@link FaultProxy} between it and S3: 5xx answers, resets
 * in the middle of bodies, latency and a 20-second outage cost retries, never data. Every blob
 * the server called complete reads back byte for byte; a read either returns every byte or ends
 * with an error status; uploads cut by the outage resume from QueryWriteStatus, as Bazel's do.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3FaultsTest {

  private static final int PART = 5 * 1024 * 1024;
  private static final int CHUNK = 64 * 1024;
  /** Answers a client may see while S3 misbehaves: both say "try again". */
  private static final Set<Status.Code> RETRYABLE = Set.of(Status.Code.UNAVAILABLE, Status.Code.ABORTED);

  private static S3Server s3;
  private static FaultProxy proxy;
  private static ServerProcess server;
  private static Streams client;
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    proxy = FaultProxy.start(s3.endpoint(), 18);
    List<String> args = new ArrayList<>();
    for (String a : s3.serverArgs()) {
      if (!a.startsWith("--endpoint=")) {
        args.add(a);
      }
    }
    args.add("--endpoint=" + proxy.endpoint());
    args.add("--prefix=faults-" + UUID.randomUUID() + "/");
    args.add("--part-size-bytes=" + PART);
    args.add("--read-segment-bytes=" + (1024 * 1024));
    args.add("--s3-max-attempts=4");
    args.add("--s3-response-timeout-seconds=3");
    args.add("--readiness-cache-seconds=2");
    args.add("--readiness-timeout-seconds=2");
    server = ServerProcess.start(List.of("-Xmx512m"), args);
    client = new Streams(server.target());
    // S3 and the server warm up before any fault: a blob through the proxy, and a ready /readyz.
    Blob warmUp = Blob.of(4321, 99);
    uploadLikeBazel(warmUp, 0, new Tally(), System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
    readBack(warmUp, new Tally());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (readyz().statusCode() != 200 && System.nanoTime() < until) {
      Thread.sleep(200);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  @AfterEach
  void heal() {
    proxy.heal();
  }

  /** One blob: its bytes and the names it is written and read under. */
  private record Blob(String upload, String name, byte[] data) {
    static Blob of(int size, long seed) {
      byte[] d = randomBytes(size, seed);
      return new Blob(uploadName("ci", d), blobName("ci", d), d);
    }
  }

  /** Small blobs (one PutObject each) and multipart ones (two or three parts). */
  private static List<Blob> blobs(int small, int large, long seed) {
    List<Blob> b = new ArrayList<>();
    for (int i = 0; i < small; i++) {
      b.add(Blob.of(1000 + i * 37_000, seed * 1000 + i));
    }
    for (int i = 0; i < large; i++) {
      b.add(Blob.of(PART + 1 + i * (PART / 2 + 4321), seed * 1000 + 500 + i));
    }
    return b;
  }

  /** What happened while one phase's blobs were written and read. */
  private static final class Tally {
    final AtomicLong writeErrors = new AtomicLong();
    final AtomicLong resumedFromNonZero = new AtomicLong();
    final AtomicLong readErrors = new AtomicLong();
    final AtomicLong verified = new AtomicLong();
    final List<Status.Code> codes = new CopyOnWriteArrayList<>();
    final AtomicLong firstErrorNanos = new AtomicLong();

    void error(StatusRuntimeException e) {
      codes.add(e.getStatus().getCode());
      firstErrorNanos.compareAndSet(0, System.nanoTime());
    }
  }

  /**
   * Writes {@code b} as Bazel does: on a failed Write, asks QueryWriteStatus (again and again while
   * that fails too) and resumes from the committed size, until the server calls the blob complete.
   * The first attempt sends one message every {@code pauseMillis}.
   */
  private static void uploadLikeBazel(Blob b, long pauseMillis, Tally t, long deadlineNanos)
      throws Exception {
    long committed = 0;
    long pause = pauseMillis;
    while (true) {
      assertThat(System.nanoTime()).as("upload of %s finished in time", b.name).isLessThan(deadlineNanos);
      try {
        WriteResponse r =
            client
                .write(b.upload, b.data, (int) committed, b.data.length, CHUNK, true, true, pause)
                .response
                .get(90, TimeUnit.SECONDS);
        assertThat(r.getCommittedSize()).isEqualTo(b.data.length);
        return;
      } catch (ExecutionException e) {
        StatusRuntimeException s = (StatusRuntimeException) e.getCause();
        t.writeErrors.incrementAndGet();
        t.error(s);
      }
      pause = 0;
      while (true) {
        assertThat(System.nanoTime()).as("upload of %s finished in time", b.name).isLessThan(deadlineNanos);
        try {
          committed = client.committedSize(b.upload);
          break;
        } catch (StatusRuntimeException e) {
          t.error(e);
          Thread.sleep(300);
        }
      }
      if (committed > 0) {
        t.resumedFromNonZero.incrementAndGet();
      }
      if (committed == b.data.length) {
        return;
      }
    }
  }

  /**
   * Reads {@code b} until a read ends OK (at most ten tries); a read that ends OK must hold every
   * byte, exactly.
   */
  private static void readBack(Blob b, Tally t) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      byte[] got;
      try {
        got = client.read(b.name, 0, 0);
      } catch (StatusRuntimeException e) {
        t.readErrors.incrementAndGet();
        t.error(e);
        assertThat(attempt).as("reads of %s that ended in an error", b.name).isLessThan(10);
        Thread.sleep(200);
        continue;
      }
      assertThat(got.length).as("bytes of %s from a read that ended OK", b.name).isEqualTo(b.data.length);
      assertThat(got).as("bytes of %s", b.name).isEqualTo(b.data);
      t.verified.incrementAndGet();
      return;
    }
  }

  /** Writes every blob (four at a time), then reads every one back. */
  private static Tally writeAndVerify(String phase, List<Blob> blobs) throws Exception {
    Tally t = new Tally();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> writes = new ArrayList<>();
      for (Blob b : blobs) {
        writes.add(pool.submit(() -> { uploadLikeBazel(b, 0, t, deadline); return null; }));
      }
      for (Future<?> f : writes) {
        f.get(120, TimeUnit.SECONDS);
      }
      List<Future<?>> reads = new ArrayList<>();
      for (Blob b : blobs) {
        reads.add(pool.submit(() -> { readBack(b, t); return null; }));
      }
      for (Future<?> f : reads) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    System.out.printf(
        "fault phase %s: %d blobs written and verified; %d failed writes resumed (%d from a"
            + " non-zero committed size); %d reads ended in an error and were retried; statuses %s%n",
        phase, t.verified.get(), t.writeErrors.get(), t.resumedFromNonZero.get(), t.readErrors.get(),
        t.codes);
    assertThat(t.verified.get()).isEqualTo(blobs.size());
    assertThat(t.codes).allMatch(RETRYABLE::contains);
    return t;
  }

  private static HttpResponse<String> readyz() throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz"))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static long storeUnavailableLines() {
    return server.log().stream().filter(l -> l.contains("event=store-unavailable")).count();
  }

  @Test
  @Order(1)
  void twentySecondOutage_readyzFollowsS3_uploadsResumeFromCommittedSize_everyBlobReadsBack()
      throws Exception {
    assertThat(readyz().statusCode()).isEqualTo(200);
    long linesBefore = storeUnavailableLines();
    // Three and a half parts each: S3 goes away after the first part, with the rest to come.
    List<Blob> large = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      large.add(Blob.of(3 * PART + PART / 2 + 1000 * i, 100 + i));
    }
    List<Blob> small = blobs(4, 0, 2);
    Tally t = new Tally();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
    ExecutorService pool = Executors.newFixedThreadPool(large.size() + small.size() + 1);
    try {
      // Large uploads at about 2 MiB/s each, so they are in flight when S3 goes away.
      List<Future<?>> writes = new ArrayList<>();
      for (Blob b : large) {
        writes.add(pool.submit(() -> { uploadLikeBazel(b, 30, t, deadline); return null; }));
      }
      for (Blob b : large) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (committedOrZero(b) < PART && System.nanoTime() < until) {
          Thread.sleep(50);
        }
        assertThat(committedOrZero(b)).isGreaterThanOrEqualTo(PART);
      }
      long outageStart = System.nanoTime();
      proxy.blackHole(20_000);
      long outageEnd = outageStart + TimeUnit.SECONDS.toNanos(20);
      for (Blob b : small) {
        writes.add(pool.submit(() -> { uploadLikeBazel(b, 0, t, deadline); return null; }));
      }

      // /readyz, polled as a load balancer would: 503 soon after S3 vanished, 200 once it is back.
      long firstNotReady = 0;
      long readyAgain = 0;
      while (readyAgain == 0 && System.nanoTime() < outageEnd + TimeUnit.SECONDS.toNanos(30)) {
        HttpResponse<String> r = readyz();
        long now = System.nanoTime();
        if (r.statusCode() == 503 && firstNotReady == 0) {
          firstNotReady = now;
          assertThat(r.body()).isEqualTo("store not reachable\n");
        }
        if (r.statusCode() == 200 && now > outageEnd) {
          readyAgain = now;
        }
        Thread.sleep(250);
      }
      assertThat(firstNotReady).as("/readyz answered 503 during the outage").isPositive();
      double notReadyAfter = (firstNotReady - outageStart) / 1e9;
      assertThat(notReadyAfter).as("seconds from the outage to a 503 from /readyz").isLessThan(5.5);
      assertThat(readyAgain).as("/readyz answered 200 after the outage").isPositive();
      double readyAfter = (readyAgain - outageEnd) / 1e9;
      assertThat(readyAfter).as("seconds from the end of the outage to a 200").isLessThan(6);

      for (Future<?> f : writes) {
        f.get(100, TimeUnit.SECONDS);
      }
      double allWrittenAfter = (System.nanoTime() - outageEnd) / 1e9;
      assertThat(t.writeErrors.get()).as("writes the outage cut").isPositive();
      assertThat(t.resumedFromNonZero.get()).as("uploads resumed from a committed size").isPositive();
      double firstErrorAfter = (t.firstErrorNanos.get() - outageStart) / 1e9;

      List<Blob> all = new ArrayList<>(large);
      all.addAll(small);
      for (Blob b : all) {
        readBack(b, t);
      }
      assertThat(t.verified.get()).isEqualTo(all.size());
      assertThat(t.codes).allMatch(RETRYABLE::contains);
      // One burst of failures, at most one line however many requests failed in it (none when
      // the burst continues one that began shortly before).
      assertThat(t.codes).hasSizeGreaterThan(3);
      assertThat(storeUnavailableLines() - linesBefore).isLessThanOrEqualTo(1);
      assertThat(storeUnavailableLines()).isPositive();
      System.out.printf(
          "fault phase outage: %d blobs written and verified (%d cut mid-upload); %d failed"
              + " writes, %d resumed from a non-zero committed size; first client error %.1f s"
              + " into the outage (%s); /readyz 503 after %.1f s, 200 again %.1f s after S3"
              + " returned; every upload finished %.1f s after S3 returned; %d requests held by"
              + " the black hole%n",
          t.verified.get(), large.size(), t.writeErrors.get(), t.resumedFromNonZero.get(),
          firstErrorAfter, t.codes.isEmpty() ? "-" : t.codes.get(0), notReadyAfter, readyAfter,
          allWrittenAfter, proxy.blackHoled());
    } finally {
      pool.shutdownNow();
    }
  }

  private static long committedOrZero(Blob b) {
    try {
      return client.committedSize(b.upload);
    } catch (StatusRuntimeException e) {
      return 0;
    }
  }

  @Test
  @Order(2)
  void fortyPercentOf5xx_everyBlobWrittenAndReadBack() throws Exception {
    proxy.faultEverywhere(Fault.SLOW_DOWN_503, 0.2).faultEverywhere(Fault.INTERNAL_ERROR_500, 0.2);
    writeAndVerify("5xx (40% of requests: 20% 503 SlowDown, 20% 500 InternalError)", blobs(6, 2, 3));
    assertThat(proxy.injected(Fault.SLOW_DOWN_503)).isPositive();
    assertThat(proxy.injected(Fault.INTERNAL_ERROR_500)).isPositive();
  }

  @Test
  @Order(3)
  void connectionsResetMidBody_onUploadPartAndGet_everyBlobWrittenAndReadBack() throws Exception {
    proxy
        .fault(Kind.UPLOAD_PART, Fault.RESET_REQUEST_BODY, 0.3)
        .fault(Kind.PUT_OBJECT, Fault.RESET_REQUEST_BODY, 0.2)
        .fault(Kind.GET_RANGE, Fault.RESET_RESPONSE_BODY, 0.3)
        .fault(Kind.GET, Fault.RESET_RESPONSE_BODY, 0.3);
    long partsBefore = proxy.requests(Kind.UPLOAD_PART);
    long getsBefore = proxy.requests(Kind.GET_RANGE);
    writeAndVerify("resets mid-body (30% of UploadPart and GETs, 20% of PutObject)", blobs(6, 2, 4));
    assertThat(proxy.requests(Kind.UPLOAD_PART)).isGreaterThan(partsBefore);
    assertThat(proxy.requests(Kind.GET_RANGE)).isGreaterThan(getsBefore);
    assertThat(proxy.injected(Fault.RESET_REQUEST_BODY)).isPositive();
    assertThat(proxy.injected(Fault.RESET_RESPONSE_BODY)).isPositive();
  }

  @Test
  @Order(4)
  void threeHundredMillisecondsOfLatency_with20PercentOf503_everyBlobWrittenAndReadBack()
      throws Exception {
    proxy.latency(300).faultEverywhere(Fault.SLOW_DOWN_503, 0.2);
    writeAndVerify("300 ms latency on every response, 20% 503 SlowDown", blobs(4, 2, 5));
  }

  @Test
  @Order(5)
  void readyz_burstOfProbesCostsAtMostOneS3Request_andNeverEchoesS3sError() throws Exception {
    // Let the cached answer expire, then probe fifty times at once.
    Thread.sleep(2500);
    long headsBefore = proxy.requests(Kind.HEAD);
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      List<Future<HttpResponse<String>>> probes = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        probes.add(pool.submit(S3FaultsTest::readyz));
      }
      for (Future<HttpResponse<String>> p : probes) {
        assertThat(p.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(proxy.requests(Kind.HEAD) - headsBefore).isLessThanOrEqualTo(1);

    proxy.fault(Kind.HEAD, Fault.SLOW_DOWN_503, 1.0);
    Set<String> bodies = ConcurrentHashMap.newKeySet();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int status = 200;
    while (status == 200 && System.nanoTime() < until) {
      HttpResponse<String> r = readyz();
      status = r.statusCode();
      bodies.add(r.body());
      Thread.sleep(100);
    }
    assertThat(status).isEqualTo(503);
    assertThat(bodies).allMatch(b -> !b.contains("SlowDown") && !b.contains("reduce"));

    proxy.heal();
    until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (status != 200 && System.nanoTime() < until) {
      status = readyz().statusCode();
      Thread.sleep(100);
    }
    assertThat(status).isEqualTo(200);
  }
}
