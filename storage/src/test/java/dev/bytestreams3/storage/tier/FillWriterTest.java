package dev.bytestreams3.storage.tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bytes a fill's writer leaves in its file, through direct I/O and through the page cache. */
class FillWriterTest {

  @TempDir Path dir;

  @Test
  void directWrites_keepBackThePartialBlock_untilFinish_thenLeaveExactlyTheBytes() throws Exception {
    // Chunks of sizes that straddle blocks and the staging buffer, ending mid-block.
    int[] sizes = {1000, 3096, 4096, 1, AlignedBuffers.BUFFER_BYTES + 4095, 70_000, 5};
    byte[] content = bytes(sum(sizes), 1);
    Path file = dir.resolve("direct");
    AlignedBuffers buffers = AlignedBuffers.forFileSystemOf(dir, 1);
    assumeTrue(buffers != null, "the temporary folder's block size is not known");
    int block = buffers.alignment();
    try (FileChannel ch = open(file)) {
      FillWriter w = FillWriter.open(file, ch, buffers);
      assumeTrue(w.direct(), "the file system of the temporary folder refuses direct I/O");
      int at = 0;
      for (int n : sizes) {
        ByteBuffer chunk = ByteBuffer.wrap(content, at, n).slice();
        long flushed = w.append(chunk);
        at += n;
        assertThat(chunk.remaining()).as("the chunk's position is left").isEqualTo(n);
        assertThat(flushed).as("whole blocks only, after %d bytes", at).isEqualTo((long) at / block * block);
        assertThat(ch.size()).isEqualTo(flushed);
        assertThat(read(ch, flushed)).isEqualTo(java.util.Arrays.copyOf(content, (int) flushed));
      }
      assertThat(w.finish()).isEqualTo(content.length);
      w.close();
      assertThat(ch.isOpen()).as("the shared channel stays open").isTrue();
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(content);
  }

  @Test
  void bufferedWrites_leaveEachChunkReadableAtOnce() throws Exception {
    byte[] content = bytes(3 * 4096 + 17, 2);
    Path file = dir.resolve("buffered");
    try (FileChannel ch = open(file)) {
      FillWriter w = FillWriter.buffered(ch);
      assertThat(w.direct()).isFalse();
      assertThat(w.append(ByteBuffer.wrap(content, 0, 100).slice())).isEqualTo(100);
      assertThat(w.append(ByteBuffer.wrap(content, 100, content.length - 100).slice()))
          .isEqualTo(content.length);
      assertThat(w.finish()).isEqualTo(content.length);
      w.close();
      assertThat(ch.isOpen()).isTrue();
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(content);
  }

  @Test
  void buffers_areAlignedToTheFileSystemsBlocks_andNoOtherAlignmentIsAccepted() throws Exception {
    long block = Files.getFileStore(dir).getBlockSize();
    assumeTrue(
        block > 0 && AlignedBuffers.BUFFER_BYTES % block == 0,
        "the temporary folder's blocks do not divide the buffers");
    AlignedBuffers buffers = AlignedBuffers.forFileSystemOf(dir, 1);
    assertThat(buffers.alignment()).isEqualTo(block);
    ByteBuffer b = buffers.take();
    assertThat(b.isDirect()).isTrue();
    assertThat(b.alignmentOffset(0, (int) block)).isZero();
    assertThat(b.remaining()).isEqualTo(AlignedBuffers.BUFFER_BYTES);
    assertThatThrownBy(() -> new AlignedBuffers(3000, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("alignment: 3000 (expected: a divisor of 262144)");
  }

  private static FileChannel open(Path file) throws Exception {
    return FileChannel.open(
        file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  private static byte[] read(FileChannel ch, long n) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) n);
    while (b.hasRemaining()) {
      if (ch.read(b, b.position()) < 0) {
        break;
      }
    }
    return b.array();
  }

  private static int sum(int[] sizes) {
    int n = 0;
    for (int s : sizes) {
      n += s;
    }
    return n;
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
