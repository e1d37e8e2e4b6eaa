package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.tier.CasKeys;
import dev.bytestreams3.storage.tier.TieredStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * Action results in the local tier in front of S3 (S3Mock in this JVM), served from disk while the
 * tier's copy is younger than the max age; S3 GETs are counted by an interceptor on the S3 client.
 */
class TieredActionResultsOverS3Test {

  private static final Duration MAX_AGE = Duration.ofSeconds(60);
  private static final BlobKey AC = BlobKey.of("main/ac/sha256/" + "ab".repeat(32));
  private static S3MockFixture s3;

  @TempDir Path tierDir;

  private final String prefix = "tier-ac-" + UUID.randomUUID() + "/";
  private final AtomicInteger gets = new AtomicInteger();
  private final MemoryBudget budget = new MemoryBudget(16L << 20);
  private final List<BlobStore> opened = new ArrayList<>();
  private final SettableClock clock = new SettableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @BeforeAll
  static void startS3() {
    s3 = S3MockFixture.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  @AfterEach
  void closeStores() {
    opened.forEach(BlobStore::close);
  }

  /** An S3 store on this test's prefix whose GETs are counted. */
  private S3BlobStore s3Store() {
    return s3Store(prefix);
  }

  /** An S3 store on {@code keyPrefix} whose GETs are counted. */
  private S3BlobStore s3Store(String keyPrefix) {
    ExecutionInterceptor counter =
        new ExecutionInterceptor() {
          @Override
          public void beforeExecution(Context.BeforeExecution c, ExecutionAttributes a) {
            if (c.request() instanceof GetObjectRequest) {
              gets.incrementAndGet();
            }
          }
        };
    S3BlobStore store =
        S3BlobStore.create(
            s3.storeConfig()
                .keyPrefix(keyPrefix)
                .partSizeBytes(S3StoreConfig.MIN_PART_BYTES)
                .interceptors(List.of(counter))
                .build(),
            budget);
    opened.add(store);
    return store;
  }

  private TieredStore tiered(BlobStore inner, Duration maxAge) {
    TieredStore t =
        new TieredStore(
            inner, new CasKeys(List.of(Sha256.FUNCTION)), tierDir, OptionalLong.of(64L << 20), 2,
            budget, clock, maxAge);
    opened.add(t);
    return t;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static byte[] get(BlobStore store, BlobKey key) throws Exception {
    ByteBuffer b = await(store.get(key, 1 << 20));
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void maxAgeZero_everyActionResultReadGetsFromS3() throws Exception {
    TieredStore tier = tiered(s3Store(), Duration.ZERO);
    await(tier.put(AC, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    gets.set(0);

    assertThat(get(tier, AC)).containsExactly(1, 2, 3);
    assertThat(get(tier, AC)).containsExactly(1, 2, 3);
    assertThat(gets.get()).isEqualTo(2);
    assertThat(tier.counters().disk().storedObjects()).isZero();
  }

  @Test
  void secondRead_withinMaxAge_isServedFromTheTierWithoutGet() throws Exception {
    S3BlobStore s3Store = s3Store();
    await(s3Store.put(AC, ByteBuffer.wrap(new byte[] {4, 5, 6})));
    TieredStore tier = tiered(s3Store, MAX_AGE);
    gets.set(0);

    assertThat(get(tier, AC)).containsExactly(4, 5, 6);
    assertThat(gets.get()).isEqualTo(1);
    clock.advance(MAX_AGE.minusSeconds(1));
    assertThat(get(tier, AC)).containsExactly(4, 5, 6);
    assertThat(gets.get()).isEqualTo(1);
    assertThat(tier.counters().disk().storedObjects()).isEqualTo(1);
  }

  @Test
  void readAfterMaxAge_getsAgain_andServesWhatAnotherWriterPutInS3() throws Exception {
    S3BlobStore s3Store = s3Store();
    TieredStore tier = tiered(s3Store, MAX_AGE);
    await(tier.put(AC, ByteBuffer.wrap(new byte[] {1, 1})));
    // Another replica replaces the result in S3, not through this tier.
    await(s3Store.put(AC, ByteBuffer.wrap(new byte[] {2, 2, 2})));
    gets.set(0);

    clock.advance(MAX_AGE.minusSeconds(1));
    assertThat(get(tier, AC)).containsExactly(1, 1);
    assertThat(gets.get()).isZero();

    clock.advance(Duration.ofSeconds(1));
    assertThat(get(tier, AC)).containsExactly(2, 2, 2);
    assertThat(gets.get()).isEqualTo(1);
    // The newer result is now the tier's copy, fresh again.
    assertThat(get(tier, AC)).containsExactly(2, 2, 2);
    assertThat(gets.get()).isEqualTo(1);
  }

  @Test
  void putThroughTheTier_isServedFromTheTierWithoutGet() throws Exception {
    TieredStore tier = tiered(s3Store(), MAX_AGE);
    await(tier.put(AC, ByteBuffer.wrap(new byte[] {7, 8, 9, 10})));
    gets.set(0);

    assertThat(get(tier, AC)).containsExactly(7, 8, 9, 10);
    assertThat(gets.get()).isZero();
    // Written to S3 first: a store without the tier reads the same bytes.
    assertThat(get(tier.inner(), AC)).containsExactly(7, 8, 9, 10);
  }

  @Test
  void staleCopy_ofAResultS3NoLongerHolds_isNotFound_andLeavesTheTier() throws Exception {
    S3BlobStore first = s3Store();
    TieredStore tier = tiered(first, MAX_AGE);
    await(tier.put(AC, ByteBuffer.wrap(new byte[] {1})));
    Path copy = tierDir.resolve("blobs").resolve(AC.value());
    assertThat(copy).exists();
    tier.close();
    opened.remove(tier);
    opened.remove(first);

    // The same tier folder in front of a store without the result (a fresh prefix): a restart
    // forgets when each copy was taken, so the copy is stale and S3's answer counts.
    TieredStore restarted = tiered(s3Store(prefix + "empty/"), MAX_AGE);
    gets.set(0);
    assertThatThrownBy(() -> await(restarted.get(AC, 100)))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            StorageException.class,
            e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND));
    assertThat(gets.get()).isEqualTo(1);
    assertThat(copy).doesNotExist();
    assertThat(restarted.counters().disk().storedObjects()).isZero();
  }

  /** A clock that moves only when told. */
  private static final class SettableClock extends Clock {
    private volatile Instant now;

    SettableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
