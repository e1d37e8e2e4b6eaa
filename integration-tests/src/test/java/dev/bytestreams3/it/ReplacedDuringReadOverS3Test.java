package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.sha256;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.s3.S3BlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A blob whose S3 object is replaced while a client reads it: the client gets the old bytes and
 * then {@code ABORTED}, which it retries, and never bytes of the new object spliced in.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReplacedDuringReadOverS3Test {

  private static final int SEGMENT = 1024 * 1024;

  private static S3Server s3;

  @BeforeAll
  static void startS3() {
    s3 = S3Server.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void objectReplacedMidRead_readEndsWithAborted_afterOldBytesOnly() throws Exception {
    String prefix = "it-" + UUID.randomUUID() + "/";
    byte[] data = randomBytes(6 * SEGMENT + 99, 61);
    byte[] other = randomBytes(data.length, 62);
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=" + prefix);
    args.add("--read-segment-bytes=" + SEGMENT);
    args.add("--read-segments-in-flight=1");
    try (ServerProcess server = ServerProcess.start(List.of(), args);
        Streams client = new Streams(server.target())) {
      client.writeAll(uploadName("main", data), data);
      ManagedChannel channel = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        // The blocking stub asks for one message at a time: the server reads ahead no further.
        Iterator<ReadResponse> read =
            ByteStreamGrpc.newBlockingStub(channel)
                .read(ReadRequest.newBuilder().setResourceName(blobName("main", data)).build());
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.writeBytes(read.next().getData().toByteArray());

        // Another writer replaces the object under the blob's key.
        try (S3BlobStore direct =
            S3BlobStore.create(s3.storeConfig().keyPrefix(prefix).build(), new MemoryBudget(64L << 20))) {
          direct
              .put(BlobKey.of("main/cas/sha256/" + sha256(data, 0, data.length)), ByteBuffer.wrap(other))
              .get(60, TimeUnit.SECONDS);
        }

        StatusRuntimeException end = null;
        try {
          read.forEachRemaining(r -> got.writeBytes(r.getData().toByteArray()));
        } catch (StatusRuntimeException e) {
          end = e;
        }
        byte[] bytes = got.toByteArray();
        assertThat(end).as("the read ends with an error, after %d bytes", bytes.length).isNotNull();
        assertThat(end.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(end.getStatus().getDescription())
            .contains("replaced while it was being read")
            .doesNotContain(prefix)
            .doesNotContain("Exception");
        assertThat(bytes).isEqualTo(Arrays.copyOf(data, bytes.length));
      } finally {
        channel.shutdownNow();
      }
    }
  }
}
