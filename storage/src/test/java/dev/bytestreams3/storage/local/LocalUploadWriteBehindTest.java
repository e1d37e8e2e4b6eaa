package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.append;
import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static dev.bytestreams3.storage.local.TestUploads.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Appends written behind the writer: bounded by the budget and per upload, nothing lost. */
class LocalUploadWriteBehindTest {

  @TempDir Path root;

  /** Uploads {@code data} to {@code key} in {@code chunk}-byte appends and checks the file. */
  private void writeWhole(LocalBlobStore store, String key, byte[] data, int chunk)
      throws Exception {
    Upload u = await(store.openUpload(verified(key, data)));
    append(u, data, 0, data.length, chunk);
    assertThat(await(u.finish())).isEqualTo(data.length);
    assertThat(Files.readAllBytes(root.resolve("blobs/" + key))).isEqualTo(data);
  }

  @Test
  void appends_copiedWithinTheBudget_andPublishedIntact() throws Exception {
    MemoryBudget budget = new MemoryBudget(256 * 1024);
    byte[] data = bytes(8 << 20, 1);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      writeWhole(store, "cas/a", data, 64 * 1024);
    }
    // The budget was used, never beyond its size, and is whole again.
    assertThat(budget.peakBytes()).isBetween(64L * 1024, 256L * 1024);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void oneUpload_holdsAtMostItsWriteBehindBytes_howeverLargeTheBudget() throws Exception {
    MemoryBudget budget = new MemoryBudget(1L << 30);
    byte[] data = bytes(32 << 20, 2);
    try (LocalBlobStore store = new LocalBlobStore(root, 4 << 20, 1, budget)) {
      writeWhole(store, "cas/b", data, 1 << 20);
    }
    assertThat(budget.peakBytes()).isBetween(1L << 20, LocalUpload.WRITE_BEHIND_BYTES);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void suspend_afterWritesBehind_commitsEveryAcceptedByte_andTheResumedUploadVerifies()
      throws Exception {
    MemoryBudget budget = new MemoryBudget(64L << 20);
    byte[] data = bytes(6 << 20, 3);
    UploadSpec spec = verified("cas/c", data);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Upload first = await(store.openUpload(spec));
      append(first, data, 0, 3 << 20, 256 * 1024);
      assertThat(first.position()).isEqualTo(3 << 20);
      assertThat(await(first.suspend())).isEqualTo(3 << 20);
    }
    try (LocalBlobStore again = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Upload second = await(again.openUpload(spec));
      assertThat(second.committedSize()).isEqualTo(3 << 20);
      append(second, data, 3 << 20, data.length, 256 * 1024);
      assertThat(await(second.finish())).isEqualTo(data.length);
      assertThat(Files.readAllBytes(root.resolve("blobs/cas/c"))).isEqualTo(data);
    }
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void fencedWriter_failsWithConflict_andTheNewWriterPublishesIntactBytes() throws Exception {
    MemoryBudget budget = new MemoryBudget(64L << 20);
    byte[] data = bytes(4 << 20, 4);
    UploadSpec spec = verified("cas/d", data);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2, budget)) {
      Upload old = await(store.openUpload(spec));
      append(old, data, 0, 2 << 20, 256 * 1024);
      Upload current = await(store.openUpload(spec));
      long from = current.committedSize();
      // The old writer's next bytes are refused, now or at its finish, and never reach the file.
      CompletableFuture<Void> late = old.append(ByteBuffer.wrap(bytes(256 * 1024, 99)));
      CompletableFuture<Long> oldFinish = late.thenCompose(v -> old.finish());
      assertThat(reasonOf(oldFinish)).isEqualTo(StorageException.Reason.CONFLICT);
      append(current, data, (int) from, data.length, 256 * 1024);
      assertThat(await(current.finish())).isEqualTo(data.length);
      assertThat(Files.readAllBytes(root.resolve("blobs/cas/d"))).isEqualTo(data);
    }
    assertThat(budget.usedBytes()).isZero();
  }

  private static StorageException.Reason reasonOf(CompletableFuture<?> f) {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e).reason();
    }
    throw new AssertionError("expected a failure, got a result");
  }
}
