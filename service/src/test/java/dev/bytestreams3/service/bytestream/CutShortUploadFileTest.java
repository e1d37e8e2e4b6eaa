package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import dev.bytestreams3.service.InProcessCache;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload of the local store whose data file holds fewer bytes than its saved state counts (a
 * crash after publishing moved it away, or a file cut short outside the server) restarts from zero:
 * its missing bytes are never filled with zeros and published.
 */
class CutShortUploadFileTest {

  @TempDir Path dir;

  private InProcessCache cache;
  private ByteStreamClient client;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir);
    client = new ByteStreamClient(cache.channel());
  }

  @AfterEach
  void stop() {
    cache.close();
  }

  @Test
  void object_dataFileCutShort_restartsAtZeroAndStoresTheBytesSent() throws Exception {
    byte[] data = randomBytes(3_000_000, 71);
    String name = "files/cut/short.bin";
    client.write(chunks(name, Arrays.copyOf(data, 2_000_000), 0, 64 * 1024, false));
    assertThat(client.status(name).getCommittedSize()).isEqualTo(2_000_000);

    cutDataFileTo(500_000);

    QueryWriteStatusResponse status = client.status(name);
    assertThat(status.getCommittedSize()).isZero();
    assertThat(status.getComplete()).isFalse();
    assertThat(client.write(chunks(name, data, 0, 64 * 1024, true)).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(client.read(name, 0, 0)).isEqualTo(data);
  }

  @Test
  void object_dataFileGone_restartsAtZeroAndStoresTheBytesSent() throws Exception {
    byte[] data = randomBytes(1_500_000, 72);
    String name = "files/cut/gone.bin";
    client.write(chunks(name, Arrays.copyOf(data, 1_000_000), 0, 64 * 1024, false));
    Files.delete(dataFile());

    assertThat(client.status(name).getCommittedSize()).isZero();
    client.write(chunks(name, data, 0, 64 * 1024, true));
    assertThat(client.read(name, 0, 0)).isEqualTo(data);
  }

  @Test
  void casBlob_dataFileCutShort_restartsAtZeroAndStoresTheBlob() throws Exception {
    byte[] data = randomBytes(2_500_000, 73);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    client.write(chunks(name, Arrays.copyOf(data, 2_000_000), 0, 64 * 1024, false));
    assertThat(client.status(name).getCommittedSize()).isEqualTo(2_000_000);

    cutDataFileTo(1_000_000);

    assertThat(client.status(name).getCommittedSize()).isZero();
    assertThat(client.write(chunks(name, data, 0, 64 * 1024, true)).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  private void cutDataFileTo(long size) throws Exception {
    try (FileChannel ch = FileChannel.open(dataFile(), StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  private Path dataFile() throws Exception {
    try (Stream<Path> files = Files.walk(dir.resolve("uploads"))) {
      List<Path> data = files.filter(p -> p.getFileName().toString().equals("data")).toList();
      assertThat(data).hasSize(1);
      return data.get(0);
    }
  }
}
