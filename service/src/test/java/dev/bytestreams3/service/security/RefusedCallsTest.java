package dev.bytestreams3.service.security;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.bytestream.ByteStreamClient;
import dev.bytestreams3.service.bytestream.ByteStreamService;
import dev.bytestreams3.service.bytestream.IdleLimits;
import dev.bytestreams3.service.bytestream.OpeningMessages;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refused Write holds nothing: a thousand refusals of each kind leave the first-message pool and
 * the store's budget as they found them, and an honest Write still succeeds. The pool has room for
 * four first messages, so a leak of even one share per refusal would stop every Write after four.
 */
class RefusedCallsTest {

  private static final String WRITER = "writer-token-0123456789abcdef";
  private static final String OTHER = "other-token-fedcba9876543210";
  private static final String READER = "reader-token-aaaaaaaaaaaaaaaa";
  private static final int MAX_MESSAGE = 1 << 20;
  private static final int REFUSALS = 1000;

  @TempDir Path dir;

  private final MemoryBudget budget = new MemoryBudget(16L << 20, 4L << 20);
  private final OpeningMessages opening = new OpeningMessages(4 * MAX_MESSAGE, MAX_MESSAGE);
  private LocalBlobStore store;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 4L << 20, 4, budget);
    TokenTable tokens =
        TokenTable.parse(
            List.of(
                WRITER + " read-write ci",
                OTHER + " read-write other",
                READER + " read ci"));
    ResourceNameParser names =
        new ResourceNameParser(CacheServer.digestFunctions(), new Instances(Optional.empty()));
    ByteStreamService service =
        new ByteStreamService(
            store, names, new KeyLayout(), true, new CasLimits(4 << 20, 0),
            opening,
            new IdleLimits(Duration.ofMinutes(5), Duration.ofMinutes(5)));
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                ServerInterceptors.intercept(
                    service, new TokenAuthInterceptor(() -> tokens, names)))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  @Test
  void thousandRefusalsOfEachKind_holdNothing_andAnHonestWriteSucceeds() throws Exception {
    byte[] data = randomBytes(100_000, 1);
    assertRefusedAll(channelAs(OTHER), upload("ci", data), data, Status.Code.PERMISSION_DENIED,
        "the token may not write 'ci'");
    assertRefusedAll(channelAs(WRITER), "ci/uploads/" + UUID.randomUUID() + "/blobs/zz/1", data,
        Status.Code.INVALID_ARGUMENT, "which is not lower-case hex");
    assertRefusedAll(channelAs(WRITER + "x"), upload("ci", data), data, Status.Code.UNAUTHENTICATED,
        "unknown bearer token");
    assertRefusedAll(channelAs(READER), upload("ci", data), data, Status.Code.PERMISSION_DENIED,
        "the token may not write anything");

    assertThat(as(WRITER).writeAll(upload("ci", data), data).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(as(WRITER).read("ci/blobs/" + sha256(data) + "/" + data.length, 0, 0))
        .isEqualTo(data);
    waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0);
  }

  @Test
  void writesEndedByTheirDeadline_holdNothing() throws Exception {
    for (int i = 0; i < 200; i++) {
      CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
      // The stream is opened and never written to: its deadline ends it.
      ByteStreamGrpc.newStub(channelAs(WRITER))
          .withDeadlineAfter(5, TimeUnit.MILLISECONDS)
          .write(observer(answer));
      assertThat(answer)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableThat()
          .withMessageContaining("DEADLINE_EXCEEDED");
    }
    waitUntil(() -> opening.usedBytes() == 0 && budget.usedBytes() == 0);
    byte[] data = randomBytes(10_000, 2);
    assertThat(as(WRITER).writeAll(upload("ci", data), data).getCommittedSize())
        .isEqualTo(data.length);
  }

  private void assertRefusedAll(
      Channel client, String resource, byte[] data, Status.Code code, String message)
      throws Exception {
    for (int i = 0; i < REFUSALS; i++) {
      CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
      StreamObserver<WriteRequest> requests =
          ByteStreamGrpc.newStub(client).write(observer(answer));
      requests.onNext(
          WriteRequest.newBuilder()
              .setResourceName(resource)
              .setData(ByteString.copyFrom(data))
              .setFinishWrite(true)
              .build());
      requests.onCompleted();
      assertThat(answer)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableThat()
          .satisfies(
              t -> {
                Status s = Status.fromThrowable(t);
                assertThat(s.getCode()).isEqualTo(code);
                assertThat(s.getDescription()).contains(message);
              });
    }
    waitUntil(() -> opening.usedBytes() == 0);
    assertThat(budget.usedBytes()).isZero();
  }

  private ByteStreamClient as(String token) {
    return new ByteStreamClient(channelAs(token));
  }

  private Channel channelAs(String token) {
    Metadata m = new Metadata();
    m.put(TokenAuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m));
  }

  private static String upload(String instance, byte[] data) {
    return instance + "/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
  }

  private static StreamObserver<WriteResponse> observer(CompletableFuture<WriteResponse> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(WriteResponse value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  private static void waitUntil(BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached within 10 s");
      }
      Thread.sleep(5);
    }
  }
}
