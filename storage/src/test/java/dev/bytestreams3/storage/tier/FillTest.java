package dev.bytestreams3.storage.tier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
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
 * A fill step by step (how far its download runs ahead of its reader, what it holds of the memory
 * budget, its check of the file against the digest): the tier's I/O threads are replaced by a
 * queue this test runs by hand, so a reader can arrive while the check waits its turn.
 */
class FillTest {

  private static final int CHUNK_BYTES = 256 * 1024;

  @TempDir Path root;

  private final HandRun io = new HandRun();
  private final TierCounters counters = new TierCounters();
  private final MemoryBudget budget = new MemoryBudget(64L << 20);
  private final AtomicBoolean ended = new AtomicBoolean();
  private TierFiles files;

  @BeforeEach
  void openFiles() {
    files = new TierFiles(root, OptionalLong.of(1L << 30), Clock.systemUTC(), counters);
  }

  @Test
  void readerArrivingOnceTheDownloadHasEnded_isTurnedAway_untilTheCheckedFileIsPublished()
      throws Exception {
    // Three steps of the check: one as the download ends, two more on the I/O threads.
    byte[] content = bytes(2 * Fill.CHECK_STEP_BYTES + 12345, 1);
    BlobKey key = casKey(content);
    Fill fill = start(content, new BytesReader(content, CHUNK_BYTES));
    TierReader first = reader(fill, content.length);

    assertThat(io.drain(first, false)).isEqualTo(content);
    // The download ends and the check's first step runs; the rest of the check waits in line.
    io.runUntil(() -> fill.readable(content.length).isDone());
    assertThat(io.waiting()).isPositive();

    assertThat(fill.attach()).as("a reader arriving while the file is checked").isFalse();
    assertThat(fill.over()).isNotDone();
    assertThat(files.blobPath(key)).as("published before the check ended").doesNotExist();

    io.runAll();
    assertThat(fill.over()).isDone();
    assertThat(ended).isTrue();
    assertThat(Files.readAllBytes(files.blobPath(key))).isEqualTo(content);
    assertThat(counters.fills()).isEqualTo(1);
    assertThat(counters.rejected()).isZero();
    first.close();
    assertThat(fill.attach()).as("a reader joining a fill that is over").isFalse();
  }

  @Test
  void fileThatIsNotWhatItsKeyNames_isServedAsRead_thenRejected_andNeverPublished()
      throws Exception {
    byte[] content = bytes(Fill.CHECK_STEP_BYTES + 99, 2);
    byte[] other = bytes(content.length, 3);
    BlobKey key = casKey(content);
    Fill fill = start(content, new BytesReader(other, CHUNK_BYTES));
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

  @Test
  void downloadRunsNoFurtherAheadOfItsReader_thanItsWindow_andHoldsNoBudgetOnceKept()
      throws Exception {
    byte[] content = bytes(3 * Fill.AHEAD_BYTES + 777, 4);
    BytesReader slow = new BytesReader(content, CHUNK_BYTES);
    Fill fill = start(content, slow);
    TierReader reader = reader(fill, content.length);

    io.runAll();
    assertThat(slow.handedOut()).as("downloaded before the reader asks").isEqualTo(Fill.AHEAD_BYTES);
    assertThat(budget.usedBytes())
        .as("the chunks held beyond the first")
        .isEqualTo(Fill.AHEAD_BYTES - CHUNK_BYTES);

    // The reader takes one chunk: the download moves on by as much, and no further.
    CompletableFuture<java.nio.ByteBuffer> first = reader.next();
    io.runAll();
    assertThat(first.get().remaining()).isEqualTo(CHUNK_BYTES);
    reader.next();
    io.runAll();
    assertThat(slow.handedOut()).isEqualTo(Fill.AHEAD_BYTES + CHUNK_BYTES);

    TierReader whole = reader(fill, content.length);
    assertThat(fill.attach()).isTrue();
    assertThat(io.drain(whole, false)).isEqualTo(content);
    reader.close();
    whole.close();
    io.runAll();
    assertThat(ended).isTrue();
    assertThat(Files.readAllBytes(files.blobPath(casKey(content)))).isEqualTo(content);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void readerLeavingMidDownload_stopsIt_andGivesBackTheBudget() throws Exception {
    byte[] content = bytes(2 * Fill.AHEAD_BYTES, 5);
    BytesReader slow = new BytesReader(content, CHUNK_BYTES);
    Fill fill = start(content, slow);
    TierReader reader = reader(fill, content.length);
    CompletableFuture<java.nio.ByteBuffer> first = reader.next();
    io.runAll();
    assertThat(first.get().remaining()).isEqualTo(CHUNK_BYTES);
    assertThat(budget.usedBytes()).isPositive();

    reader.close();
    io.runAll();
    assertThat(ended).isTrue();
    assertThat(slow.handedOut()).isLessThan(content.length);
    assertThat(budget.usedBytes()).isZero();
    assertThat(files.blobPath(casKey(content))).doesNotExist();
    try (var left = Files.list(root.resolve("tmp"))) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void readerLeavingWhenEveryByteHasArrived_letsTheFillEndAndPublish() throws Exception {
    // All of the blob arrives before its reader takes anything: only its end is left to ask for.
    byte[] content = bytes(Fill.AHEAD_BYTES, 6);
    BlobKey key = casKey(content);
    Fill fill = start(content, new BytesReader(content, CHUNK_BYTES));
    TierReader reader = reader(fill, content.length);
    io.runAll();
    reader.close();
    io.runAll();

    assertThat(fill.over()).isDone();
    assertThat(Files.readAllBytes(files.blobPath(key))).isEqualTo(content);
    assertThat(fill.attach()).isFalse();
    assertThat(budget.usedBytes()).isZero();
  }

  /** A fill of the blob {@code content} names, copying what {@code from} reads. */
  private Fill start(byte[] content, BlobReader from) throws Exception {
    return Fill.start(
        casKey(content), check(content), from, files, io, budget,
        AlignedBuffers.forFileSystemOf(root, 2),
        () -> ended.set(true));
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
