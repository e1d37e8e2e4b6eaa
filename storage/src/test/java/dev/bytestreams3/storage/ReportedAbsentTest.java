package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob the inner store just reported absent spares the first upload of it its existence check,
 * for a short while and once, and never once the blob was stored through the cache.
 */
class ReportedAbsentTest {

  @TempDir Path dir;
  private final ExistenceCachedStoreTest.TestClock clock = new ExistenceCachedStoreTest.TestClock();
  private LocalBlobStore local;
  private final BlobKey key = BlobKey.of("ci/cas/sha256/abcd");

  @BeforeEach
  void open() {
    local = new LocalBlobStore(dir, 1 << 20, 2);
  }

  @AfterEach
  void close() {
    local.close();
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  private ExistenceCachedStore cached(int entries) {
    return new ExistenceCachedStore(local, entries, 2, Duration.ofHours(1), clock);
  }

  @Test
  void absentAnswer_sparesTheNextUploadItsQuestion_once() throws Exception {
    ExistenceCachedStore store = cached(100);
    assertThat(await(store.findExisting(List.of(key)))).isEmpty();
    long checks = store.storeChecks();

    assertThat(await(store.holdsBeforeUpload(key, 3))).isFalse();
    assertThat(store.storeChecks()).as("the upload did not ask the store again").isEqualTo(checks);
    assertThat(store.absentHits()).isEqualTo(1);

    assertThat(await(store.holdsBeforeUpload(key, 3))).isFalse();
    assertThat(store.storeChecks()).as("a second upload asks").isEqualTo(checks + 1);
  }

  @Test
  void absentAnswer_expiresAfterTwoMinutes() throws Exception {
    ExistenceCachedStore store = cached(100);
    assertThat(await(store.findExisting(List.of(key)))).isEmpty();
    long checks = store.storeChecks();
    clock.advance(ExistenceCachedStore.ABSENT_TTL);

    assertThat(await(store.holdsBeforeUpload(key, 3))).isFalse();
    assertThat(store.storeChecks()).isEqualTo(checks + 1);
    assertThat(store.absentHits()).isZero();
  }

  @Test
  void blobStoredSince_isAnsweredPresent() throws Exception {
    ExistenceCachedStore store = cached(100);
    assertThat(await(store.findExisting(List.of(key)))).isEmpty();
    await(store.put(key, ByteBuffer.wrap(new byte[3])));

    assertThat(await(store.holdsBeforeUpload(key, 3))).isTrue();
    assertThat(await(store.holdsBeforeUpload(key, 4))).as("another size is another blob").isFalse();
  }

  @Test
  void blobStoredBehindTheCache_isUploadedOnceMore_butNeverReportedAbsent() throws Exception {
    ExistenceCachedStore store = cached(100);
    assertThat(await(store.findExisting(List.of(key)))).isEmpty();
    await(local.put(key, ByteBuffer.wrap(new byte[3])));

    assertThat(await(store.holdsBeforeUpload(key, 3))).as("the absence answer is used").isFalse();
    assertThat(await(store.findExisting(List.of(key)))).containsExactly(key);
  }

  @Test
  void withoutAnExistenceCache_nothingIsRemembered() throws Exception {
    ExistenceCachedStore store = cached(0);
    assertThat(await(store.findExisting(List.of(key)))).isEmpty();
    long checks = store.storeChecks();

    assertThat(await(store.holdsBeforeUpload(key, 3))).isFalse();
    assertThat(store.storeChecks()).isEqualTo(checks + 1);
  }
}
