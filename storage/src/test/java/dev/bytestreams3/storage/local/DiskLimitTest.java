package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Upload;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local store under a size limit: least recently used blobs go first, blobs being read and
 * uploads in progress stay, the order survives a restart, and what unfinished work left behind is
 * swept after the idle timeout. Time moves by an injected clock.
 */
class DiskLimitTest {

  private static final int BLOB = 10 * 1024;
  private static final long LIMIT = 10L * BLOB;
  private static final long CHECKPOINT = 4 * 1024;
  private static final Duration IDLE = Duration.ofHours(1);

  /** A clock the test moves by hand. */
  static final class TestClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @TempDir Path root;
  private final TestClock clock = new TestClock();

  private LocalBlobStore open() {
    return new LocalBlobStore(
        root, CHECKPOINT, 2, new MemoryBudget(8 << 20),
        new LocalLimits(OptionalLong.of(LIMIT), IDLE, clock));
  }

  private static BlobKey key(int i) {
    return BlobKey.of("cas/sha256/blob" + i);
  }

  private void put(LocalBlobStore store, int i) throws Exception {
    clock.advance(Duration.ofMinutes(1));
    await(store.put(key(i), ByteBuffer.wrap(bytes(BLOB, i))));
  }

  private long bytesOnDisk() throws Exception {
    try (Stream<Path> all = Files.walk(root.resolve("blobs"))) {
      long total = 0;
      for (Path p : (Iterable<Path>) all::iterator) {
        if (Files.isRegularFile(p)) {
          total += Files.size(p);
        }
      }
      return total;
    }
  }

  private static byte[] readAll(BlobReader r) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer b = await(r.next()); b != null; b = await(r.next())) {
      byte[] chunk = new byte[b.remaining()];
      b.get(chunk);
      out.write(chunk);
    }
    return out.toByteArray();
  }

  @Test
  void fillPastLimit_recentlyReadBlobsStay_limitHolds() throws Exception {
    try (LocalBlobStore store = open()) {
      List<BlobKey> evicted = new CopyOnWriteArrayList<>();
      store.addEvictionListener(evicted::add);
      for (int i = 0; i < 8; i++) {
        put(store, i);
      }
      // Blobs 0 and 1 are the oldest written, but read now: they are the most recently used.
      clock.advance(Duration.ofMinutes(1));
      await(store.get(key(0), Integer.MAX_VALUE));
      try (BlobReader r = await(store.openReader(key(1), 0, 0))) {
        assertThat(readAll(r)).isEqualTo(bytes(BLOB, 1));
      }
      for (int i = 8; i < 16; i++) {
        put(store, i);
        assertThat(bytesOnDisk()).isLessThanOrEqualTo(LIMIT + CHECKPOINT);
      }

      assertThat(await(store.size(key(0)))).hasValue(BLOB);
      assertThat(await(store.size(key(1)))).hasValue(BLOB);
      assertThat(await(store.size(key(2)))).isEmpty();
      assertThat(await(store.size(key(15)))).hasValue(BLOB);
      assertThat(evicted).containsExactly(key(2), key(3), key(4), key(5), key(6), key(7));
      assertThat(store.lifecycle().evictedObjects()).isEqualTo(evicted.size());
      assertThat(store.lifecycle().evictedBytes()).isEqualTo((long) evicted.size() * BLOB);
      assertThat(store.lifecycle().storedBytes()).isEqualTo(bytesOnDisk()).isLessThanOrEqualTo(LIMIT);
      assertThat(store.lifecycle().storedObjects()).isEqualTo(10);
    }
  }

  @Test
  void blobBeingRead_andUploadInProgress_areNeverEvicted() throws Exception {
    try (LocalBlobStore store = open()) {
      put(store, 0);
      BlobReader reading = await(store.openReader(key(0), 0, 0));
      byte[] content = bytes(3 * BLOB, 99);
      Upload upload = await(store.openUpload(TestUploads.verified("cas/sha256/big", content)));
      TestUploads.append(upload, content, 0, 2 * BLOB, 4096);

      for (int i = 1; i < 25; i++) {
        put(store, i);
      }
      assertThat(Files.exists(root.resolve("blobs/cas/sha256/blob0"))).isTrue();
      assertThat(readAll(reading)).isEqualTo(bytes(BLOB, 0));
      reading.close();

      TestUploads.append(upload, content, 2 * BLOB, 3 * BLOB, 4096);
      assertThat(await(upload.finish())).isEqualTo(3L * BLOB);
      assertThat(await(store.size(BlobKey.of("cas/sha256/big")))).hasValue(3L * BLOB);
      // The next write may now take the blob that was being read.
      put(store, 25);
      assertThat(await(store.size(key(0)))).isEmpty();
      assertThat(bytesOnDisk()).isLessThanOrEqualTo(LIMIT + CHECKPOINT);
    }
  }

  @Test
  void restart_keepsLeastRecentlyUsedOrder() throws Exception {
    try (LocalBlobStore store = open()) {
      for (int i = 0; i < 4; i++) {
        put(store, i);
      }
      clock.advance(Duration.ofMinutes(1));
      await(store.get(key(1), Integer.MAX_VALUE));
      clock.advance(Duration.ofMinutes(1));
      await(store.touch(key(0)));
    }
    try (LocalBlobStore store = open()) {
      assertThat(store.keysOldestFirst()).containsExactly(key(2), key(3), key(1), key(0));
      assertThat(store.lifecycle().storedObjects()).isEqualTo(4);
      // Filling up evicts in that order.
      List<BlobKey> evicted = new ArrayList<>();
      store.addEvictionListener(evicted::add);
      for (int i = 10; i < 18; i++) {
        put(store, i);
      }
      assertThat(evicted).containsExactly(key(2), key(3));
    }
  }

  @Test
  void idleUploadsAndStrayTempFiles_sweptAfterIdleTimeout_openUploadKept() throws Exception {
    try (LocalBlobStore store = open()) {
      byte[] content = bytes(2 * BLOB, 7);
      Upload abandoned = await(store.openUpload(TestUploads.verified("cas/sha256/left", content)));
      TestUploads.append(abandoned, content, 0, BLOB, 4096);
      await(abandoned.suspend());
      byte[] other = bytes(2 * BLOB, 8);
      Upload open = await(store.openUpload(TestUploads.verified("cas/sha256/open", other)));
      TestUploads.append(open, other, 0, BLOB, 4096);
      Path stray = Files.writeString(root.resolve("tmp").resolve("stray"), "left by a crash");
      // Everything on disk is dated by the real clock; the store's clock runs past the timeout.
      clock.advance(Duration.between(clock.instant(), Instant.now()).plus(IDLE).plusMinutes(1));

      int removed = await(store.sweepIdle());

      assertThat(removed).isEqualTo(2);
      assertThat(Files.exists(stray)).isFalse();
      try (Stream<Path> folders = Files.list(root.resolve("uploads"))) {
        assertThat(folders.count()).isEqualTo(1);
      }
      TestUploads.append(open, other, BLOB, 2 * BLOB, 4096);
      assertThat(await(open.finish())).isEqualTo(2L * BLOB);
    }
  }
}
