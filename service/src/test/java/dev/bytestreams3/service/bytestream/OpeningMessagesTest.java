package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** First messages of writes stay within their own bound while uploads are slow to open. */
class OpeningMessagesTest {

  private static final int MAX_MESSAGE = 64 * 1024;

  @TempDir Path dir;

  private LocalBlobStore local;
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    local.close();
  }

  @Test
  void secondWrite_waitsForTheFirstsMessageToBeStored_thenBothComplete() throws Exception {
    local = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    CompletableFuture<Void> gate = new CompletableFuture<>();
    GatedStore store = new GatedStore(local, gate);
    // Room for one first message of the largest size at a time.
    OpeningMessages opening = new OpeningMessages(MAX_MESSAGE, MAX_MESSAGE);
    start(store, opening);

    byte[] a = randomBytes(40_000, 1);
    byte[] b = randomBytes(50_000, 2);
    CompletableFuture<WriteResponse> first = write(a);
    waitUntil(() -> store.opened.get() == 1);
    // The first call's message is stored nowhere yet; it holds its own size only.
    assertThat(opening.usedBytes()).isBetween((long) a.length, (long) a.length + 200);

    CompletableFuture<WriteResponse> second = write(b);
    Thread.sleep(300);
    // The second call may not take its first message: the largest one would not fit beside it.
    assertThat(store.opened.get()).isEqualTo(1);
    assertThat(second).isNotDone();

    gate.complete(null);
    assertThat(first.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(a.length);
    assertThat(second.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(b.length);
    assertThat(store.opened.get()).isEqualTo(2);
    waitUntil(() -> opening.usedBytes() == 0);
  }

  @Test
  void cancelledWrite_returnsItsShare() throws Exception {
    local = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    GatedStore store = new GatedStore(local, new CompletableFuture<>());
    OpeningMessages opening = new OpeningMessages(MAX_MESSAGE, MAX_MESSAGE);
    start(store, opening);

    byte[] a = randomBytes(10_000, 3);
    CompletableFuture<WriteResponse> first = write(a);
    waitUntil(() -> store.opened.get() == 1);
    assertThat(opening.usedBytes()).isPositive();
    first.cancel(true);
    channel.shutdownNow();
    waitUntil(() -> opening.usedBytes() == 0);
  }

  private void start(BlobStore store, OpeningMessages opening) throws Exception {
    String name = InProcessServerBuilder.generateName();
    Instances instances = new Instances(Optional.empty());
    ByteStreamService service =
        new ByteStreamService(
            store,
            new ResourceNameParser(CacheServer.digestFunctions(), instances),
            new KeyLayout(),
            true,
            new CasLimits(4 << 20, 0),
            opening);
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  /** One Write of {@code data} in a single message, answered by the returned future. */
  private CompletableFuture<WriteResponse> write(byte[] data) {
    CompletableFuture<WriteResponse> answer = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests =
        ByteStreamGrpc.newStub(channel)
            .write(
                new StreamObserver<>() {
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
                });
    requests.onNext(
        WriteRequest.newBuilder()
            .setResourceName(
                "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length)
            .setData(ByteString.copyFrom(data))
            .setFinishWrite(true)
            .build());
    requests.onCompleted();
    answer.whenComplete(
        (v, e) -> {
          if (answer.isCancelled()) {
            requests.onError(new IllegalStateException("cancelled by the test"));
          }
        });
    return answer;
  }

  private static void waitUntil(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached within 10 s");
      }
      Thread.sleep(10);
    }
  }

  /** A real store whose uploads open only once {@code gate} completes; counts the openings. */
  private static final class GatedStore extends ForwardingStore {
    private final CompletableFuture<Void> gate;
    final AtomicInteger opened = new AtomicInteger();

    GatedStore(BlobStore inner, CompletableFuture<Void> gate) {
      super(inner);
      this.gate = gate;
    }

    @Override
    public CompletableFuture<Upload> openUpload(UploadSpec spec) {
      opened.incrementAndGet();
      return gate.thenCompose(v -> super.openUpload(spec));
    }
  }
}
