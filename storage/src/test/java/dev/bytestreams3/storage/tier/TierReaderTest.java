package dev.bytestreams3.storage.tier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader of a complete tier file reads ahead of its caller within the memory budget, gives back
 * what it holds, and continues from the slow store where a chunk read ahead failed. The tier's I/O
 * threads are replaced by a queue this test runs by hand.
 */
class TierReaderTest {

  private static final int MIB = 1 << 20;

  @TempDir Path root;

  private final HandRun io = new HandRun();
  private final AtomicBoolean unpinned = new AtomicBoolean();
  private final AtomicLong slowFrom = new AtomicLong(-1);

  @Test
  void completeFile_isReadTwoChunksAhead_withinTheBudget_andAllOfItIsGivenBack() throws Exception {
    byte[] content = bytes(5 * MIB + 123, 1);
    MemoryBudget budget = new MemoryBudget(64L * MIB);
    TierReader r = reader(content, budget);

    CompletableFuture<ByteBuffer> first = r.next();
    // The chunk asked for, and the two after it.
    assertThat(io.waiting()).isEqualTo(3);
    assertThat(budget.usedBytes()).isEqualTo(2L * MIB);
    io.runUntil(first::isDone);
    assertThat(bytesOf(first.get())).isEqualTo(Arrays.copyOf(content, MIB));

    byte[] rest = io.drain(r, false);
    assertThat(rest).isEqualTo(Arrays.copyOfRange(content, MIB, content.length));
    // Every chunk read ahead was handed over: nothing is held.
    assertThat(budget.usedBytes()).isZero();
    r.close();
    assertThat(unpinned).isTrue();
    assertThat(slowFrom).hasValue(-1);
  }

  @Test
  void closedBeforeItsChunksReadAheadAreTaken_holdsNothing() throws Exception {
    byte[] content = bytes(4 * MIB, 2);
    MemoryBudget budget = new MemoryBudget(64L * MIB);
    TierReader r = reader(content, budget);

    CompletableFuture<ByteBuffer> first = r.next();
    io.runUntil(first::isDone);
    assertThat(budget.usedBytes()).isEqualTo(2L * MIB);
    r.close();

    assertThat(budget.usedBytes()).isZero();
    assertThat(unpinned).isTrue();
    // Reads already queued find the file closed; nobody takes what they read.
    io.runAll();
    assertThat(budget.usedBytes()).isZero();
    assertThat(r.next().get()).isNull();
  }

  @Test
  void withMoreThanHalfTheBudgetTaken_readsOnlyWhatItIsAskedFor() throws Exception {
    byte[] content = bytes(3 * MIB + 7, 3);
    MemoryBudget budget = new MemoryBudget(8L * MIB);
    try (MemoryBudget.Reservation others = budget.reserve(4L * MIB + 1).get()) {
      TierReader r = reader(content, budget);

      CompletableFuture<ByteBuffer> first = r.next();
      assertThat(io.waiting()).isEqualTo(1);
      assertThat(budget.usedBytes()).isEqualTo(4L * MIB + 1);
      io.runUntil(first::isDone);

      byte[] all = concat(bytesOf(first.get()), io.drain(r, false));
      assertThat(all).isEqualTo(content);
      assertThat(budget.usedBytes()).isEqualTo(4L * MIB + 1);
      r.close();
    }
  }

  @Test
  void chunkReadAheadFromAFileCutShort_continuesFromTheSlowStoreWhereThatChunkStarts()
      throws Exception {
    byte[] content = bytes(3 * MIB + 5, 4);
    MemoryBudget budget = new MemoryBudget(64L * MIB);
    TierReader r = reader(content, budget);

    CompletableFuture<ByteBuffer> first = r.next();
    io.runUntil(first::isDone);
    // The tier's copy loses its end while the next two chunks wait to be read.
    try (FileChannel ch = FileChannel.open(root.resolve("blob"), StandardOpenOption.WRITE)) {
      ch.truncate(MIB + 100);
    }
    byte[] all = concat(bytesOf(first.get()), io.drain(r, false));

    assertThat(all).isEqualTo(content);
    assertThat(slowFrom).hasValue(MIB);
    // The tier's file is let go once the slow store serves; what was read ahead is dropped.
    assertThat(unpinned).isTrue();
    io.runAll();
    assertThat(budget.usedBytes()).isZero();
    r.close();
  }

  @Test
  void storeClosed_readFailsUnavailable_andHoldsNothing() throws Exception {
    byte[] content = bytes(3 * MIB, 5);
    MemoryBudget budget = new MemoryBudget(64L * MIB);
    Executor closed =
        task -> {
          throw new RejectedExecutionException("shut down");
        };
    TierReader r = reader(content, budget, closed);

    CompletableFuture<ByteBuffer> first = r.next();

    assertThat(first)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(StorageException.Reason.UNAVAILABLE);
              assertThat(e).hasMessage("store is closed");
            });
    r.close();
    assertThat(budget.usedBytes()).isZero();
    assertThat(unpinned).isTrue();
    assertThat(slowFrom).hasValue(-1);
  }

  /** A reader of all of {@code content}, kept as a complete tier file. */
  private TierReader reader(byte[] content, MemoryBudget budget) throws Exception {
    return reader(content, budget, io);
  }

  private TierReader reader(byte[] content, MemoryBudget budget, Executor executor)
      throws Exception {
    Path file = Files.write(root.resolve("blob"), content);
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    StoredFile stored = new StoredFile(ch, content.length, () -> unpinned.set(true));
    return new TierReader(
        stored, executor, budget, 0, content.length,
        from -> {
          slowFrom.set(from);
          BlobReader slow =
              new BytesReader(Arrays.copyOfRange(content, (int) from, content.length), 256 << 10);
          return CompletableFuture.completedFuture(slow);
        });
  }

  private static byte[] bytesOf(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
