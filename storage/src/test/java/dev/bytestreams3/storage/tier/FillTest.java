package dev.bytestreams3.storage.tier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fill's check of its file against the digest, step by step: the tier's I/O threads are replaced
 * by a queue this test runs by hand, so a reader can arrive while the check waits its turn.
 */
class FillTest {

  private static final int CHUNK_BYTES = 256 * 1024;

  @TempDir Path root;

  private final HandRun io = new HandRun();
  private final TierCounters counters = new TierCounters();
  private final AtomicBoolean ended = new AtomicBoolean();
  private TierFiles files;

  @BeforeEach
  void openFiles() {
    files = new TierFiles(root, OptionalLong.of(1L << 30), Clock.systemUTC(), counters);
  }

  @Test
  void readerArrivingWhileTheFileIsChecked_readsItWhole_andTheFileIsPublishedAfter()
      throws Exception {
    // Three steps of the check: one as the download ends, two more on the I/O threads.
    byte[] content = bytes(2 * Fill.CHECK_STEP_BYTES + 12345, 1);
    BlobKey key = casKey(content);
    Fill fill =
        Fill.start(
            key, check(content), new BytesReader(content, CHUNK_BYTES), files, io,
            () -> ended.set(true));
    assertThat(fill.attach()).isTrue();
    TierReader first = reader(fill, content.length);

    assertThat(io.drain(first, false)).isEqualTo(content);
    // The download ends and the check's first step runs; the rest of the check waits in line.
    io.runUntil(() -> fill.readable(content.length).isDone());
    assertThat(io.waiting()).isPositive();

    assertThat(fill.attach()).isTrue();
    TierReader second = reader(fill, content.length);
    assertThat(io.drain(second, true)).isEqualTo(content);
    assertThat(files.blobPath(key)).as("published before the check ended").doesNotExist();
    assertThat(ended).isFalse();

    io.runAll();
    assertThat(ended).isTrue();
    assertThat(Files.readAllBytes(files.blobPath(key))).isEqualTo(content);
    assertThat(counters.fills()).isEqualTo(1);
    assertThat(counters.rejected()).isZero();
    first.close();
    second.close();
    assertThat(fill.attach()).as("a reader joining a fill that is over").isFalse();
  }

  @Test
  void fileThatIsNotWhatItsKeyNames_isServedAsRead_thenRejected_andNeverPublished()
      throws Exception {
    byte[] content = bytes(Fill.CHECK_STEP_BYTES + 99, 2);
    byte[] other = bytes(content.length, 3);
    BlobKey key = casKey(content);
    Fill fill =
        Fill.start(
            key, check(content), new BytesReader(other, CHUNK_BYTES), files, io,
            () -> ended.set(true));
    assertThat(fill.attach()).isTrue();
    TierReader reader = reader(fill, other.length);

    assertThat(io.drain(reader, false)).isEqualTo(other);
    reader.close();
    io.runAll();

    assertThat(ended).isTrue();
    assertThat(counters.rejected()).isEqualTo(1);
    assertThat(counters.fills()).isZero();
    assertThat(files.blobPath(key)).doesNotExist();
    try (var left = Files.list(root.resolve("tmp"))) {
      assertThat(left).isEmpty();
    }
  }

  private TierReader reader(Fill fill, long size) {
    return new TierReader(
        fill, io, new MemoryBudget(64L << 20), 0, size,
        from -> CompletableFuture.failedFuture(new AssertionError("read from the slow store at " + from)));
  }

  private static ContentCheck check(byte[] content) throws Exception {
    return new ContentCheck(Sha256.FUNCTION, MessageDigest.getInstance("SHA-256").digest(content));
  }

  private static BlobKey casKey(byte[] content) throws Exception {
    return BlobKey.of(
        "cas/sha256/"
            + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)));
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
