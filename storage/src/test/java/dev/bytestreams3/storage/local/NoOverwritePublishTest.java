package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.append;
import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploads that may not replace a blob publish atomically: of two at once, exactly one wins. */
class NoOverwritePublishTest {

  private static final int ROUNDS = 40;

  @TempDir Path root;

  @Test
  void twoUploadsFinishingAtOnce_exactlyOneWins_andTheBlobIsItsBytesWhole() throws Exception {
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 4)) {
      for (int round = 0; round < ROUNDS; round++) {
        BlobKey key = BlobKey.of("objects/race/" + round);
        byte[] first = bytes(64 * 1024, 2 * round);
        byte[] second = bytes(64 * 1024 + 1, 2 * round + 1);
        // Two upload folders for one key: both pass the check at open, so only the publish
        // itself can keep the loser from replacing the winner.
        Upload a = await(store.openUpload(new UploadSpec(key, "a", -1, Optional.empty(), false)));
        Upload b = await(store.openUpload(new UploadSpec(key, "b", -1, Optional.empty(), false)));
        append(a, first, 0, first.length, 16 * 1024);
        append(b, second, 0, second.length, 16 * 1024);

        List<CompletableFuture<Long>> finishes = new ArrayList<>();
        finishes.add(a.finish());
        finishes.add(b.finish());
        List<Long> won = new ArrayList<>();
        for (CompletableFuture<Long> f : finishes) {
          try {
            won.add(f.get(30, TimeUnit.SECONDS));
          } catch (ExecutionException e) {
            assertThat(e.getCause())
                .isInstanceOfSatisfying(
                    StorageException.class,
                    s -> {
                      assertThat(s.reason()).isEqualTo(StorageException.Reason.ALREADY_EXISTS);
                      assertThat(s.getMessage()).contains("already exists and may not be replaced");
                    });
          }
        }

        assertThat(won).as("round %d", round).hasSize(1);
        byte[] stored = Files.readAllBytes(root.resolve("blobs").resolve(key.value()));
        assertThat(stored).isEqualTo(won.get(0) == first.length ? first : second);
      }
    }
    try (Stream<Path> left = Files.list(root.resolve("uploads"))) {
      assertThat(left).as("upload folders left behind").isEmpty();
    }
  }
}
