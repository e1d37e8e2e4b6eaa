package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.storage.local.LocalBlobStore;
import dev.bytestreams3.storage.local.LocalLimits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The existence-caching store over a real local store: what it answers from memory, when it asks
 * the store, and how reads, writes, evictions and failed touches keep its memory true.
 */
class ExistenceCachedStoreTest {

  private static final Duration TTL = Duration.ofMinutes(10);

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

  @TempDir Path dir;
  private final TestClock clock = new TestClock();
  private LocalBlobStore local;

  @BeforeEach
  void open() {
    local = new LocalBlobStore(dir, 1 << 20, 2);
  }

  @AfterEach
  void close() {
    local.close();
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  private static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private void deleteBehindTheStoresBack(BlobKey key) throws Exception {
    Files.delete(dir.resolve("blobs").resolve(key.value()));
  }

  @Test
  void sizes_writtenThroughIt_answeredFromMemoryUntilTheTtl_thenAskedOfTheStore() throws Exception {
    ExistenceCachedStore store = new ExistenceCachedStore(local, 100, 4, TTL, clock);
    BlobKey key = BlobKey.of("cas/sha256/aa");
    await(store.put(key, bytes("five!")));

    assertThat(await(store.sizes(List.of(key)))).isEqualTo(Map.of(key, 5L));
    clock.advance(TTL.minusSeconds(1));
    assertThat(await(store.size(key))).isEqualTo(OptionalLong.of(5));
    assertThat(store.hits()).isEqualTo(2);
    assertThat(store.storeChecks()).isZero();

    clock.advance(Duration.ofSeconds(1));
    assertThat(await(store.findExisting(List.of(key)))).containsExactly(key);
    assertThat(store.misses()).isEqualTo(1);
    assertThat(store.storeChecks()).isEqualTo(1);
  }

  @Test
  void sizes_absentAndDuplicateKeys_oneStoreCheckPerDistinctKey_absentLeftOut() throws Exception {
    ExistenceCachedStore store = new ExistenceCachedStore(local, 100, 4, TTL, clock);
    BlobKey present = BlobKey.of("cas/sha256/present");
    BlobKey absent = BlobKey.of("cas/sha256/absent");
    await(local.put(present, bytes("abc")));

    Map<BlobKey, Long> sizes = await(store.sizes(List.of(absent, present, absent, present)));

    assertThat(sizes).containsExactly(Map.entry(present, 3L));
    assertThat(store.storeChecks()).isEqualTo(2);
    // The present one was proved by the store and touched: remembered. The absent one was not.
    await(store.sizes(List.of(absent, present)));
    assertThat(store.storeChecks()).isEqualTo(3);
    assertThat(store.hits()).isEqualTo(1);
  }

  @Test
  void sizes_thousandKeys_atMostChecksInFlightAtOnce() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    BlobStore watched =
        new ForwardingStore(local) {
          @Override
          public CompletableFuture<OptionalLong> size(BlobKey key) {
            peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            // Answered a little later, from another thread, as a remote store would.
            return CompletableFuture.supplyAsync(
                    () -> null, CompletableFuture.delayedExecutor(2, TimeUnit.MILLISECONDS))
                .thenCompose(v -> super.size(key))
                .whenComplete((v, e) -> inFlight.decrementAndGet());
          }
        };
    ExistenceCachedStore store = new ExistenceCachedStore(watched, 100, 3, TTL, clock);
    List<BlobKey> keys = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      keys.add(BlobKey.of("cas/sha256/k" + i));
    }
    await(local.put(keys.get(7), bytes("seven")));

    assertThat(await(store.sizes(keys))).containsExactly(Map.entry(keys.get(7), 5L));
    assertThat(peak.get()).isEqualTo(3);
    assertThat(store.checksRunning()).isZero();
  }

  @Test
  void read_findsBlobGone_forgetsItAtOnce() throws Exception {
    ExistenceCachedStore store = new ExistenceCachedStore(local, 100, 4, TTL, clock);
    BlobKey key = BlobKey.of("cas/sha256/gone");
    await(store.put(key, bytes("soon gone")));
    deleteBehindTheStoresBack(key);

    assertThatThrownBy(() -> await(store.get(key, 100)))
        .isInstanceOf(ExecutionException.class)
        .satisfies(
            e ->
                assertThat(StorageException.from(e).reason())
                    .isEqualTo(StorageException.Reason.NOT_FOUND));
    assertThat(store.invalidations()).isEqualTo(1);
    assertThat(await(store.sizes(List.of(key)))).isEmpty();
    assertThat(store.hits()).isZero();
  }

  @Test
  void eviction_byTheInnerStore_forgetsTheBlob() throws Exception {
    local.close();
    local =
        new LocalBlobStore(
            dir, 1 << 20, 2, new MemoryBudget(1 << 20),
            new LocalLimits(OptionalLong.of(12), Duration.ofHours(1), clock));
    ExistenceCachedStore store = new ExistenceCachedStore(local, 100, 4, TTL, clock);
    BlobKey first = BlobKey.of("cas/sha256/first");
    BlobKey second = BlobKey.of("cas/sha256/second");
    await(store.put(first, bytes("eight b.")));
    clock.advance(Duration.ofSeconds(1));
    await(store.put(second, bytes("eight b!")));

    assertThat(store.invalidations()).isEqualTo(1);
    assertThat(await(store.sizes(List.of(first, second)))).containsExactly(Map.entry(second, 8L));
    assertThat(store.hits()).isEqualTo(1);
  }

  @Test
  void touchFails_blobReportedAbsent_andNotRemembered() throws Exception {
    BlobStore refusing =
        new ForwardingStore(local) {
          @Override
          public CompletableFuture<Void> touch(BlobKey key) {
            return CompletableFuture.failedFuture(
                new StorageException(StorageException.Reason.UNAVAILABLE, "refresh failed"));
          }
        };
    ExistenceCachedStore store = new ExistenceCachedStore(refusing, 100, 4, TTL, clock);
    BlobKey key = BlobKey.of("cas/sha256/unkept");
    await(local.put(key, bytes("abc")));

    assertThat(await(store.sizes(List.of(key)))).isEmpty();
    assertThat(await(store.size(key))).isEmpty();
    assertThat(store.storeChecks()).isEqualTo(2);
    assertThat(store.hits()).isZero();
  }

  @Test
  void verifiedUpload_finished_isRemembered_objectUploadIsNot() throws Exception {
    ExistenceCachedStore store = new ExistenceCachedStore(local, 100, 4, TTL, clock);
    byte[] data = "uploaded in pieces".getBytes(StandardCharsets.UTF_8);
    byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(data);
    BlobKey blob = BlobKey.of("cas/sha256/" + java.util.HexFormat.of().formatHex(digest));
    ContentCheck check = new ContentCheck(Sha256.FUNCTION, digest);
    Upload u = await(store.openUpload(new UploadSpec(blob, "u1", data.length, Optional.of(check), true)));
    await(u.append(ByteBuffer.wrap(data, 0, 5)));
    await(u.append(ByteBuffer.wrap(data, 5, data.length - 5)));
    assertThat(await(u.finish())).isEqualTo(data.length);

    BlobKey object = BlobKey.of("objects/notes.txt");
    Upload o = await(store.openUpload(new UploadSpec(object, "object", -1, Optional.empty(), true)));
    await(o.append(bytes("plain")));
    await(o.finish());

    assertThat(await(store.sizes(List.of(blob, object))))
        .containsExactly(Map.entry(blob, (long) data.length), Map.entry(object, 5L));
    assertThat(store.hits()).as("the verified blob").isEqualTo(1);
    assertThat(store.storeChecks()).as("the object").isEqualTo(1);
  }

  @Test
  void noEntries_remembersNothing_butStillTouchesAndBounds() throws Exception {
    ExistenceCachedStore store = new ExistenceCachedStore(local, 0, 1, TTL, clock);
    BlobKey key = BlobKey.of("cas/sha256/uncached");
    await(store.put(key, bytes("abc")));
    assertThat(await(store.size(key))).isEqualTo(OptionalLong.of(3));
    assertThat(await(store.size(key))).isEqualTo(OptionalLong.of(3));
    assertThat(store.hits()).isZero();
    assertThat(store.storeChecks()).isEqualTo(2);
  }

  @Test
  void describe_wrapsTheInnerStoresDescription() {
    local.close();
    Path root = dir.resolve("cache");
    local =
        new LocalBlobStore(
            root, 1 << 20, 2, new MemoryBudget(1 << 20),
            new LocalLimits(OptionalLong.of(50L << 30), Duration.ofHours(1), clock));
    ExistenceCachedStore store =
        new ExistenceCachedStore(local, 100000, 4, Duration.ofHours(1), clock);
    assertThat(store.describe())
        .isEqualTo("existence-cached(ttl 1h, 100000 entries, local " + root + " (at most 50 GiB))");
    assertThat(new ExistenceCachedStore(local, 5, 4, Duration.ofSeconds(90), clock).describe())
        .startsWith("existence-cached(ttl 1m30s, 5 entries, local ");
  }
}
