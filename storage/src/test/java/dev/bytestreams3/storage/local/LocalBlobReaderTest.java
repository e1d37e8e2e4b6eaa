package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads of the local store: chunks read ahead within the budget, the range intact. */
class LocalBlobReaderTest {

  @TempDir Path root;

  private static byte[] readAll(BlobReader r, MemoryBudget budget, long aheadBytes)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer chunk;
    while ((chunk = await(r.next())) != null) {
      // At most the chunks read ahead wait, holding their bytes from the budget.
      assertThat(budget.usedBytes()).isLessThanOrEqualTo(aheadBytes);
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      out.write(b);
    }
    return out.toByteArray();
  }

  @Test
  void readsAhead_twoChunks_fromTheBudget_andReturnsThemOnClose() throws Exception {
    MemoryBudget budget = new MemoryBudget(64L << 20);
    byte[] data = bytes((5 << 20) + 123, 1);
    long twoChunks = 2L * BlobReader.MAX_CHUNK_BYTES;
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Files.createDirectories(root.resolve("blobs/cas"));
      Files.write(root.resolve("blobs/cas/a"), data);
      BlobReader whole = await(store.openReader(BlobKey.of("cas/a"), 0, 0));
      assertThat(readAll(whole, budget, twoChunks)).isEqualTo(data);
      whole.close();
      assertThat(budget.peakBytes()).isEqualTo(twoChunks);

      BlobReader part = await(store.openReader(BlobKey.of("cas/a"), 100, 3 << 20));
      ByteBuffer first = await(part.next());
      assertThat(first.remaining()).isEqualTo(BlobReader.MAX_CHUNK_BYTES);
      assertThat(budget.usedBytes()).isEqualTo(twoChunks);
      // The range's last chunk is the only one left to read ahead.
      ByteBuffer second = await(part.next());
      assertThat(second.get(0)).isEqualTo(data[100 + BlobReader.MAX_CHUNK_BYTES]);
      assertThat(budget.usedBytes()).isEqualTo(BlobReader.MAX_CHUNK_BYTES);
      part.close();
      assertThat(budget.usedBytes()).isZero();
    }
  }

  @Test
  void withRoomForOneChunk_readsAheadOnlyThatOne() throws Exception {
    MemoryBudget budget = new MemoryBudget(BlobReader.MAX_CHUNK_BYTES + 4096);
    byte[] data = bytes(4 << 20, 3);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Files.createDirectories(root.resolve("blobs/cas"));
      Files.write(root.resolve("blobs/cas/c"), data);
      try (BlobReader r = await(store.openReader(BlobKey.of("cas/c"), 0, 0))) {
        assertThat(readAll(r, budget, BlobReader.MAX_CHUNK_BYTES)).isEqualTo(data);
      }
      assertThat(budget.peakBytes()).isEqualTo(BlobReader.MAX_CHUNK_BYTES);
      assertThat(budget.usedBytes()).isZero();
    }
  }

  @Test
  void withTheBudgetSpent_readsEachChunkWhenAsked_andDeliversTheRange() throws Exception {
    MemoryBudget budget = new MemoryBudget(4096);
    byte[] data = bytes(3 << 20, 2);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Files.createDirectories(root.resolve("blobs/cas"));
      Files.write(root.resolve("blobs/cas/b"), data);
      try (BlobReader r = await(store.openReader(BlobKey.of("cas/b"), 777, 2 << 20))) {
        byte[] expected = java.util.Arrays.copyOfRange(data, 777, 777 + (2 << 20));
        assertThat(readAll(r, budget, 0)).isEqualTo(expected);
      }
      assertThat(budget.peakBytes()).isZero();
    }
  }
}
