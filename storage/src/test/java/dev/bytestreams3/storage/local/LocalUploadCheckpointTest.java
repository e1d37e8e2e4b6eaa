package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.append;
import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static dev.bytestreams3.storage.local.TestUploads.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints taken while an upload goes on: its data file is synced beside the writes that follow,
 * and the state recorded once the sync is done counts exactly the bytes that sync covered.
 */
class LocalUploadCheckpointTest {

  @TempDir Path root;
  @TempDir Path copy;

  private static final int CHECKPOINT = 1 << 20;
  private static final int CHUNK = 256 * 1024;

  @Test
  void checkpoints_areRecordedWhileTheWriterGoesOn_andResumeToTheSameContent() throws Exception {
    byte[] data = bytes(8 << 20, 11);
    UploadSpec spec = verified("cas/k", data);
    long recorded;
    try (LocalBlobStore store = new LocalBlobStore(root, CHECKPOINT, 2)) {
      Upload writer = await(store.openUpload(spec));
      append(writer, data, 0, 6 << 20, CHUNK);
      // No suspend: only the checkpoints taken on the way have recorded anything.
      recorded = lastRecorded(store, spec, 6 << 20);
      assertThat(recorded).isGreaterThan((6 << 20) - CHECKPOINT).isLessThanOrEqualTo(6 << 20);
      assertThat(recorded % CHUNK).isZero();
      // What a crash would leave: the folder as it is, the writer never told to stop.
      copyFolder(root.resolve("uploads"), copy.resolve("uploads"));
      await(writer.abort());
    }
    try (LocalBlobStore resumed = new LocalBlobStore(copy, CHECKPOINT, 2)) {
      Upload next = await(resumed.openUpload(spec));
      assertThat(next.committedSize()).isEqualTo(recorded);
      append(next, data, (int) recorded, data.length, CHUNK);
      // The hash state recorded with the count matches it, or this fails DIGEST_MISMATCH.
      assertThat(await(next.finish())).isEqualTo(data.length);
    }
    assertThat(Files.readAllBytes(copy.resolve("blobs/cas/k"))).isEqualTo(data);
  }

  @Test
  void suspend_whileASyncMayBeRunning_commitsEveryByte_andNoLaterRecordUndoesIt()
      throws Exception {
    byte[] data = bytes(12 << 20, 12);
    UploadSpec spec = verified("cas/m", data);
    try (LocalBlobStore store = new LocalBlobStore(root, CHECKPOINT, 2)) {
      for (int cut : new int[] {(3 << 20) + CHUNK, 7 << 20}) {
        Upload writer = await(store.openUpload(spec));
        append(writer, data, (int) writer.committedSize(), cut, CHUNK);
        assertThat(await(writer.suspend())).isEqualTo(cut);
        // A sync started before the suspend ends after it; its record must not count fewer bytes.
        Thread.sleep(200);
        assertThat(await(store.queryUpload(spec))).isEqualTo(new UploadStatus(cut, false, true));
      }
      Upload last = await(store.openUpload(spec));
      assertThat(last.committedSize()).isEqualTo(7 << 20);
      append(last, data, 7 << 20, data.length, CHUNK);
      assertThat(await(last.finish())).isEqualTo(data.length);
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/m"))).isEqualTo(data);
  }

  /**
   * Asks for the upload's committed bytes until they are within one checkpoint of {@code written}:
   * the last record there is, since no sync starts until a checkpoint's worth more is written.
   */
  private static long lastRecorded(LocalBlobStore store, UploadSpec spec, long written)
      throws Exception {
    long now = 0;
    for (int i = 0; i < 200 && now <= written - CHECKPOINT; i++) {
      Thread.sleep(50);
      now = await(store.queryUpload(spec)).committedSize();
    }
    return now;
  }

  private static void copyFolder(Path from, Path to) throws Exception {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
