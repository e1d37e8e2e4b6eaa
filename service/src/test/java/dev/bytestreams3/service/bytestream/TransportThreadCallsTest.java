package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ByteStream calls run on the transport's thread: a call waiting for the store must not hold up
 * the other calls of its connection, which share that thread.
 */
class TransportThreadCallsTest {

  @TempDir Path dir;

  @Test
  void writeWaitingForTheStore_leavesTheConnectionFreeForOtherCalls() throws Exception {
    CompletableFuture<Void> gate = new CompletableFuture<>();
    try (LocalBlobStore local = new LocalBlobStore(dir.resolve("store"), 1 << 20, 4)) {
      BlobStore store = new SlowKeyStore(local, gate);
      CacheServer server =
          CacheServer.start(
              "127.0.0.1", 0,
              CacheServer.services(store, ConfigLoader.load(new String[0], Map.of())),
              ServerOptions.plain());
      // One channel, one connection: every call below shares one event-loop thread.
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        ByteStreamClient client = new ByteStreamClient(channel);
        byte[] slow = randomBytes(300_000, 1);
        CompletableFuture<WriteResponse> stalled =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return client.writeAll("files/slow/blob", slow);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        Thread.sleep(200);
        assertThat(stalled).isNotDone();

        byte[] fast = randomBytes(3 << 20, 2);
        assertThat(client.writeAll("files/fast/blob", fast).getCommittedSize())
            .isEqualTo(fast.length);
        assertThat(client.read("files/fast/blob", 0, 0)).isEqualTo(fast);
        assertThat(
                CapabilitiesGrpc.newBlockingStub(channel)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                    .hasCacheCapabilities())
            .isTrue();
        assertThat(stalled).isNotDone();

        gate.complete(null);
        assertThat(stalled.get(10, TimeUnit.SECONDS).getCommittedSize()).isEqualTo(slow.length);
        assertThat(client.read("files/slow/blob", 0, 0)).isEqualTo(slow);
      } finally {
        channel.shutdownNow();
        server.shutdown(Duration.ofSeconds(2));
      }
    }
  }

  /** A real store whose uploads under {@code files/slow/} open only once {@code gate} completes. */
  private static final class SlowKeyStore extends ForwardingStore {
    private final CompletableFuture<Void> gate;

    SlowKeyStore(BlobStore inner, CompletableFuture<Void> gate) {
      super(inner);
      this.gate = gate;
    }

    @Override
    public CompletableFuture<Upload> openUpload(UploadSpec spec) {
      if (spec.key().value().contains("slow")) {
        return gate.thenCompose(v -> super.openUpload(spec));
      }
      return super.openUpload(spec);
    }
  }
}
