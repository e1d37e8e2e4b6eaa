package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import dev.bytestreams3.service.InProcessCache;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blobs are stored under their hash alone, so a name with the right hash and a wrong size must not
 * be answered with the stored blob: not by Read, not by QueryWriteStatus.
 */
class WrongSizeDigestTest {

  @TempDir Path dir;

  private InProcessCache cache;
  private ByteStreamClient client;
  private byte[] data;
  private String hash;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir);
    client = new ByteStreamClient(cache.channel());
    data = randomBytes(100_000, 81);
    hash = sha256(data);
    client.writeAll("uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + data.length, data);
  }

  @AfterEach
  void stop() {
    cache.close();
  }

  @Test
  void read_sizeOtherThanTheStoredBlob_isNotFoundNamingTheResource() {
    String wrong = "blobs/" + hash + "/" + (data.length + 1);

    assertStatus(
        () -> client.read(wrong, 0, 0),
        Status.Code.NOT_FOUND,
        "'" + wrong + "' not found: the blob of that hash has " + data.length + " bytes (expected: "
            + (data.length + 1) + ")");
    assertThat(client.read("blobs/" + hash + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void queryWriteStatus_sizeOtherThanTheStoredBlob_isNotComplete_andTheWriteFailsVerification()
      throws Exception {
    String wrong = "uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + (data.length + 1);

    QueryWriteStatusResponse status = client.status(wrong);
    assertThat(status.getCommittedSize()).isZero();
    assertThat(status.getComplete()).isFalse();

    // The stored bytes, sent under the wrong size, end short of it.
    assertThatThrownBy(() -> client.write(chunks(wrong, data, 0, 16 * 1024, true)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .contains("received " + data.length + " bytes")
                  .contains("(expected: " + (data.length + 1) + ")");
            });
    assertThat(client.read("blobs/" + hash + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void queryWriteStatus_compressedName_sizeOtherThanTheStoredBlob_isNotComplete() {
    QueryWriteStatusResponse status =
        client.status(
            "uploads/" + UUID.randomUUID() + "/compressed-blobs/zstd/" + hash + "/" + (data.length - 1));

    assertThat(status.getCommittedSize()).isZero();
    assertThat(status.getComplete()).isFalse();
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription())
                  .contains(messagePart)
                  .doesNotContain("cas/sha256")
                  .doesNotContain("Exception");
            });
  }
}
