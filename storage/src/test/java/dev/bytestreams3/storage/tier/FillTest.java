package dev.bytestreams3.storage.tier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.Sha256;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
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
    Fill fill = Fill.start(key, check(content), new BytesReader(content), files, io, () -> ended.set(true));
    assertThat(fill.attach()).isTrue();
    TierReader first = reader(fill, content.length);

    assertThat(drain(first, false)).isEqualTo(content);
    // The download ends and the check's first step runs; the rest of the check waits in line.
    io.runUntil(() -> fill.readable(content.length).isDone());
    assertThat(io.waiting()).isPositive();

    assertThat(fill.attach()).isTrue();
    TierReader second = reader(fill, content.length);
    assertThat(drain(second, true)).isEqualTo(content);
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
    Fill fill = Fill.start(key, check(content), new BytesReader(other), files, io, () -> ended.set(true));
    assertThat(fill.attach()).isTrue();
    TierReader reader = reader(fill, other.length);

    assertThat(drain(reader, false)).isEqualTo(other);
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
        fill, io, 0, size,
        from -> CompletableFuture.failedFuture(new AssertionError("read from the slow store at " + from)));
  }

  /**
   * Reads {@code r} to its end, running the tasks it waits for oldest first, or newest first so
   * that check steps queued before its reads wait.
   */
  private byte[] drain(TierReader r, boolean newestFirst) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      CompletableFuture<ByteBuffer> next = r.next();
      if (newestFirst) {
        io.runNewestUntil(next::isDone);
      } else {
        io.runUntil(next::isDone);
      }
      ByteBuffer chunk = next.getNow(null);
      if (chunk == null) {
        return out.toByteArray();
      }
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      out.write(b);
    }
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

  /** The bytes of an array in chunks, each ready at once, as a store with all of them read. */
  private static final class BytesReader implements BlobReader {
    private final byte[] bytes;
    private int position;

    BytesReader(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public long blobSize() {
      return bytes.length;
    }

    @Override
    public CompletableFuture<ByteBuffer> next() {
      if (position >= bytes.length) {
        return CompletableFuture.completedFuture(null);
      }
      int n = Math.min(CHUNK_BYTES, bytes.length - position);
      ByteBuffer chunk = ByteBuffer.wrap(bytes, position, n).slice();
      position += n;
      return CompletableFuture.completedFuture(chunk);
    }

    @Override
    public void close() {}
  }

  /** An executor whose tasks wait until the test runs them, oldest or newest first. */
  private static final class HandRun implements Executor {
    private final Deque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
      tasks.addLast(task);
    }

    synchronized int waiting() {
      return tasks.size();
    }

    private synchronized Runnable take(boolean newest) {
      return newest ? tasks.pollLast() : tasks.pollFirst();
    }

    void runUntil(java.util.function.BooleanSupplier done) {
      run(false, done);
    }

    void runNewestUntil(java.util.function.BooleanSupplier done) {
      run(true, done);
    }

    void runAll() {
      run(false, () -> false);
    }

    private void run(boolean newest, java.util.function.BooleanSupplier done) {
      while (!done.getAsBoolean()) {
        Runnable task = take(newest);
        if (task == null) {
          return;
        }
        task.run();
      }
    }
  }
}
