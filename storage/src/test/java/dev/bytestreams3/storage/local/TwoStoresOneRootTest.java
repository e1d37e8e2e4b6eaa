package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.append;
import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static dev.bytestreams3.storage.local.TestUploads.verified;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two stores on one root folder never write the same upload at once. */
class TwoStoresOneRootTest {

  private static final int CHUNK = 256 * 1024;

  @TempDir Path root;

  @Test
  void secondStore_waitsForTheFirstWriter_thenResumesFromWhatItCommitted() throws Exception {
    byte[] data = bytes(5 << 20, 1);
    UploadSpec spec = verified("cas/a", data);
    try (LocalBlobStore first = new LocalBlobStore(root, 1 << 20, 2);
        LocalBlobStore second = new LocalBlobStore(root, 1 << 20, 2)) {
      Upload old = await(first.openUpload(spec));
      append(old, data, 0, 3 << 20, CHUNK);

      CompletableFuture<Upload> opening = second.openUpload(spec);
      Thread.sleep(300);
      assertThat(opening).as("opened while the first writer holds the upload").isNotDone();

      long committed = await(old.suspend());
      assertThat(committed).isEqualTo(3 << 20);
      Upload resumed = await(opening);
      assertThat(resumed.committedSize()).isEqualTo(committed);
      append(resumed, data, (int) committed, data.length, CHUNK);
      assertThat(await(resumed.finish())).isEqualTo(data.length);
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/a"))).isEqualTo(data);
  }

  @Test
  void secondStore_givesUpWithUnavailable_whileTheFirstWriterStaysAttached() throws Exception {
    byte[] data = bytes(2 << 20, 2);
    UploadSpec spec = verified("cas/b", data);
    try (LocalBlobStore first = new LocalBlobStore(root, 1 << 20, 2);
        LocalBlobStore second = new LocalBlobStore(root, 1 << 20, 2)) {
      Upload writer = await(first.openUpload(spec));
      append(writer, data, 0, 1 << 20, CHUNK);

      ExecutionException refused =
          catchThrowableOfType(
              () -> await(second.openUpload(spec)), ExecutionException.class);
      StorageException cause = StorageException.from(refused);
      assertThat(cause.reason()).isEqualTo(StorageException.Reason.UNAVAILABLE);
      assertThat(cause.getMessage())
          .isEqualTo(
              "upload to cas/b is being written by another store on the same folder; retry later");

      // The first writer lost nothing to the attempt.
      append(writer, data, 1 << 20, data.length, CHUNK);
      assertThat(await(writer.finish())).isEqualTo(data.length);
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/b"))).isEqualTo(data);
  }

  @Test
  void lateAbort_ofAWriterThatLetGo_leavesTheNewWriterAlone() throws Exception {
    byte[] data = bytes(3 << 20, 5);
    UploadSpec spec = verified("cas/e", data);
    try (LocalBlobStore first = new LocalBlobStore(root, 1 << 20, 2);
        LocalBlobStore second = new LocalBlobStore(root, 1 << 20, 2)) {
      // The same store and another store on the same folder, in turn.
      for (LocalBlobStore next : new LocalBlobStore[] {first, second}) {
        Upload old = await(first.openUpload(spec));
        append(old, data, (int) old.committedSize(), 2 << 20, CHUNK);
        assertThat(await(old.suspend())).isEqualTo(2 << 20);
        Upload current = await(next.openUpload(spec));
        assertThat(current.committedSize()).isEqualTo(2 << 20);
        await(old.abort());
        // The folder is the current writer's: its bytes are still there to resume from.
        assertThat(await(next.queryUpload(spec)).committedSize()).isEqualTo(2 << 20);
        assertThat(await(current.suspend())).isEqualTo(2 << 20);
      }
      Upload last = await(second.openUpload(spec));
      append(last, data, (int) last.committedSize(), data.length, CHUNK);
      assertThat(await(last.finish())).isEqualTo(data.length);

      // With no newer writer, aborting after suspending still discards the upload.
      UploadSpec other = verified("cas/f", data);
      Upload lone = await(first.openUpload(other));
      append(lone, data, 0, 2 << 20, CHUNK);
      await(lone.suspend());
      await(lone.abort());
      assertThat(await(second.queryUpload(other)).known()).isFalse();
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/e"))).isEqualTo(data);
  }

  @Test
  void differentUploads_inTwoStores_doNotWaitForEachOther() throws Exception {
    byte[] one = bytes(1 << 20, 3);
    byte[] two = bytes(1 << 20, 4);
    try (LocalBlobStore first = new LocalBlobStore(root, 1 << 20, 2);
        LocalBlobStore second = new LocalBlobStore(root, 1 << 20, 2)) {
      Upload a = await(first.openUpload(verified("cas/c", one)));
      Upload b = second.openUpload(verified("cas/d", two)).get(1, TimeUnit.SECONDS);
      append(a, one, 0, one.length, CHUNK);
      append(b, two, 0, two.length, CHUNK);
      await(a.finish());
      await(b.finish());
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/c"))).isEqualTo(one);
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/d"))).isEqualTo(two);
  }
}
