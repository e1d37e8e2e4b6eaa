package dev.bytestreams3.service.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import com.google.protobuf.ByteString;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ZstdStreamsTest {

  @Test
  void decoder_expandsATinyMessageInBoundedChunks() throws Exception {
    byte[] zeros = new byte[64 * 1024 * 1024];
    byte[] compressed = Zstd.compress(zeros, 3);
    assertThat(compressed.length).isLessThan(16 * 1024);
    long total = 0;
    int largest = 0;
    try (ZstdDecoder d = new ZstdDecoder()) {
      d.feed(ByteBuffer.wrap(compressed));
      ByteBuffer chunk;
      while ((chunk = d.next()) != null) {
        largest = Math.max(largest, chunk.remaining());
        byte[] bytes = new byte[chunk.remaining()];
        chunk.get(bytes);
        assertThat(bytes).isEqualTo(new byte[bytes.length]);
        total += bytes.length;
      }
      d.checkComplete();
    }
    assertThat(total).isEqualTo(zeros.length);
    assertThat(largest).isEqualTo(ZstdDecoder.CHUNK_BYTES);
  }

  @Test
  void encoder_piecewise_decodesToTheInput() throws Exception {
    byte[] data = new byte[5 * 1024 * 1024];
    Random r = new Random(1);
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) ('a' + r.nextInt(4));
    }
    ByteString.Output out = ByteString.newOutput();
    try (ZstdEncoder e = new ZstdEncoder()) {
      for (int off = 0; off < data.length; off += 1 << 20) {
        e.encode(ByteBuffer.wrap(data, off, Math.min(1 << 20, data.length - off))).writeTo(out);
      }
      e.finish().writeTo(out);
    }
    byte[] compressed = out.toByteString().toByteArray();
    assertThat(compressed.length).isLessThan(data.length / 2);
    assertThat(MessageDigest.getInstance("SHA-256").digest(Zstd.decompress(compressed, data.length)))
        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
  }

  @Test
  void blobs_wrongSizeOrGarbage_isRejectedWithTheReason() {
    ByteString c = ByteString.copyFrom(Zstd.compress(new byte[1000]));
    assertThat(ZstdBlobs.decompress(c, 1000)).hasSize(1000);
    assertThatThrownBy(() -> ZstdBlobs.decompress(c, 999))
        .hasMessage("compressed data holds more than the digest's 999 bytes");
    assertThatThrownBy(() -> ZstdBlobs.decompress(c, 1001))
        .hasMessage("compressed data holds 1000 bytes (expected: 1001, the digest's size)");
    assertThatThrownBy(() -> ZstdBlobs.decompress(ByteString.copyFromUtf8("not zstd at all"), 10))
        .hasMessageStartingWith("compressed data is not valid zstd");
  }

  /** Bytes this thread has allocated so far, as the JVM counts them. */
  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }

  @Test
  void blobs_hugeDeclaredSize_allocatesWhatIsDecoded_notWhatIsDeclared() {
    ByteString c = ByteString.copyFrom(Zstd.compress(new byte[1024]));
    long before = allocatedBytes();
    assertThatThrownBy(() -> ZstdBlobs.decompress(c, 1536L << 20))
        .hasMessage("compressed data holds 1024 bytes (expected: 1610612736, the digest's size)");
    assertThat(allocatedBytes() - before).as("bytes allocated").isLessThan(64L << 20);
    assertThatThrownBy(() -> ZstdBlobs.decompress(c, 6L << 40))
        .hasMessage("decompressed size 6597069766656 (expected: 0 to 2147483631)");
  }

  @Test
  void blobs_bomb_stopsAtTheDeclaredSize() {
    ByteString bomb = ByteString.copyFrom(Zstd.compress(new byte[256 << 20]));
    assertThat(bomb.size()).isLessThan(64 * 1024);
    long before = allocatedBytes();
    assertThatThrownBy(() -> ZstdBlobs.decompress(bomb, 1 << 20))
        .hasMessage("compressed data holds more than the digest's 1048576 bytes");
    assertThat(allocatedBytes() - before).as("bytes allocated").isLessThan(64L << 20);
  }
}
