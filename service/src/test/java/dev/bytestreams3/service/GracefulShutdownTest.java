package dev.bytestreams3.service;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.service.bytestream.ByteStreamClient;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping a server over a real socket while an upload is in flight. */
class GracefulShutdownTest {

  @TempDir Path dir;

  private LocalBlobStore store;
  private CacheServer server;
  private ManagedChannel channel;

  private void start() throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    server = CacheServer.start("127.0.0.1", 0, store, true);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdown(Duration.ZERO);
    }
    if (store != null) {
      store.close();
    }
  }

  private void restart() throws Exception {
    stop();
    start();
  }

  /** An open Write: messages go out on demand, the answer arrives in {@link #answer}. */
  private final class OpenWrite {
    final CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
    final StreamObserver<WriteRequest> out =
        ByteStreamGrpc.newStub(channel)
            .write(
                new StreamObserver<>() {
                  WriteResponse last;

                  @Override
                  public void onNext(WriteResponse r) {
                    last = r;
                  }

                  @Override
                  public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    answer.complete(last);
                  }
                });
  }

  private CompletableFuture<Void> shutdownInBackground(Duration grace) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            server.shutdown(grace);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  /**
   * Asks the open channel for the server's health until a call fails, for up to 5 s, and returns
   * the code it failed with; every answer before that must be NOT_SERVING.
   */
  private Status.Code newCallsRefused() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      try {
        ServingStatus status =
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus();
        assertThat(status).isEqualTo(ServingStatus.NOT_SERVING);
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode();
      }
      Thread.sleep(10);
    }
    return Status.Code.OK;
  }

  @Test
  void uploadInFlight_finishesWithinTheGrace_whileNewCallsAreRefused() throws Exception {
    start();
    byte[] data = randomBytes(2_000_000, 1);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    List<WriteRequest> requests = chunks(name, data, 0, 16 * 1024, true);
    OpenWrite w = new OpenWrite();
    int half = requests.size() / 2;
    requests.subList(0, half).forEach(w.out::onNext);
    new ByteStreamClient(channel).status(name); // the first half has reached the server

    CompletableFuture<Void> stopped = shutdownInBackground(Duration.ofSeconds(20));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (server.isServing() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(server.isServing()).isFalse();
    // A new connection finds nobody listening; the open one refuses new calls once the client
    // has the server's GOAWAY. A call that slips in before that hears NOT_SERVING.
    assertThat(newCallsRefused()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(stopped).isNotDone();

    requests.subList(half, requests.size()).forEach(w.out::onNext);
    w.out.onCompleted();
    assertThat(w.answer.get(20, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(data.length);
    stopped.get(20, TimeUnit.SECONDS);

    restart();
    assertThat(new ByteStreamClient(channel).read("blobs/" + sha256(data) + "/" + data.length, 0, 0))
        .isEqualTo(data);
  }

  @Test
  void uploadStillOpenAfterTheGrace_isCut_andResumesAfterRestart() throws Exception {
    start();
    byte[] data = randomBytes(3_000_000, 2);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    List<WriteRequest> requests = chunks(name, data, 0, 16 * 1024, true);
    OpenWrite w = new OpenWrite();
    requests.subList(0, requests.size() / 2).forEach(w.out::onNext);
    new ByteStreamClient(channel).status(name);

    shutdownInBackground(Duration.ofMillis(500)).get(20, TimeUnit.SECONDS);
    assertThatThrownBy(() -> w.answer.get(20, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class);

    restart();
    ByteStreamClient client = new ByteStreamClient(channel);
    long committed = client.status(name).getCommittedSize();
    assertThat(committed).isBetween(0L, (long) data.length - 1);
    WriteResponse r = client.write(chunks(name, data, (int) committed, 16 * 1024, true));
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void health_turnsNotServing_whenShutdownBegins() throws Exception {
    start();
    assertThat(
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(server.isServing()).isTrue();
    server.shutdown(Duration.ofSeconds(5));
    assertThat(server.isServing()).isFalse();
  }
}
