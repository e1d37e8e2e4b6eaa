package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service that stops taking messages stops the HTTP sender: the gateway decodes at most one
 * message beyond what the Write asked for, so a paused service holds the client to a few MiB.
 */
class SlowServiceTest {

  private static final int MIB = 1 << 20;
  private static final int MESSAGES = 32;

  @TempDir Path dir;
  private final AtomicLong received = new AtomicLong();
  private final CountDownLatch release = new CountDownLatch(1);
  private GatewayHarness h;

  @BeforeEach
  void start() throws Exception {
    ServerInterceptor pausing =
        new ServerInterceptor() {
          @Override
          public <Q, A> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            if (!call.getMethodDescriptor().getFullMethodName().endsWith("/Write")) {
              return next.startCall(call, headers);
            }
            ServerCall<Q, A> paused =
                new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                  private int requests;

                  @Override
                  public void request(int n) {
                    // The first message goes through; the service asks for the next in vain
                    // until the release.
                    if (requests++ == 0) {
                      super.request(n);
                      return;
                    }
                    CompletableFuture.runAsync(
                        () -> {
                          try {
                            release.await();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                          super.request(n);
                        });
                  }
                };
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(paused, headers)) {
              @Override
              public void onMessage(Q message) {
                received.addAndGet(((WriteRequest) message).getData().size());
                super.onMessage(message);
              }
            };
          }
        };
    h = new GatewayHarness(dir, GatewaySettings.defaults(), List.of(), List.of(pausing));
  }

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    h.close();
  }

  @Test
  void ndjsonWrite_pausedServiceHoldsTheBodyBack() throws Exception {
    byte[] data = GatewayTest.random(MESSAGES * MIB, 41);
    List<byte[]> lines = new ArrayList<>();
    for (String line : GatewayTest.ndjson("files/paused", data, MIB, 0, true).split("\n")) {
      lines.add((line + "\n").getBytes(StandardCharsets.US_ASCII));
    }
    AtomicLong pulled = new AtomicLong();
    Iterable<byte[]> counted =
        () ->
            new Iterator<>() {
              private final Iterator<byte[]> it = lines.iterator();

              @Override
              public boolean hasNext() {
                return it.hasNext();
              }

              @Override
              public byte[] next() {
                byte[] b = it.next();
                pulled.addAndGet(b.length);
                return b;
              }
            };
    CompletableFuture<HttpResponse<String>> response =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return h.send("POST", "/v1/bytestream:write", BodyPublishers.ofByteArrays(counted));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(1500);
    long whilePaused = pulled.get();
    System.out.println(whilePaused + " bytes of the body sent while the service paused");
    assertThat(received.get()).isEqualTo(MIB);
    // Socket buffers and a message or two in hand: nowhere near the 43 MiB body.
    assertThat(whilePaused).as("body bytes sent while the service paused").isLessThanOrEqualTo(16L * MIB);

    release.countDown();
    HttpResponse<String> r = response.get(60, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"committedSize\":\"" + data.length + "\"}");
    assertThat(received.get()).isEqualTo(data.length);
  }
}
