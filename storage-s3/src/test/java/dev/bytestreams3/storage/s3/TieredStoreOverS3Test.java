package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import dev.bytestreams3.storage.tier.CasKeys;
import dev.bytestreams3.storage.tier.TieredStore;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
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
 * The local tier in front of S3 (S3Mock in this JVM): what it serves from disk, what it fills
 * from S3 and with how many GETs, counted by an interceptor on the S3 client.
 */
class TieredStoreOverS3Test {

  private static final int SEGMENT = 1024 * 1024;
  private static S3MockFixture s3;

  @TempDir Path tierDir;

  private final String prefix = "tier-" + UUID.randomUUID() + "/";
  private final AtomicInteger gets = new AtomicInteger();
  private final MemoryBudget budget = new MemoryBudget(64L << 20);
  private final List<BlobStore> opened = new ArrayList<>();

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
                .keyPrefix(prefix)
                .partSizeBytes(S3StoreConfig.MIN_PART_BYTES)
                .readSegmentBytes(SEGMENT)
                .maxSegmentsInFlight(2)
                .interceptors(List.of(counter))
                .build(),
            budget);
    opened.add(store);
    return store;
  }

  private TieredStore tiered(BlobStore inner, long maxBytes) {
    TieredStore t =
        new TieredStore(
            inner, new CasKeys(List.of(Sha256.FUNCTION)), tierDir, OptionalLong.of(maxBytes), 2,
            budget, Clock.systemUTC());
    opened.add(t);
    return t;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static BlobKey casKey(byte[] content) throws Exception {
    return BlobKey.of("main/cas/sha256/" + HexFormat.of().formatHex(sha256(content)));
  }

  private static byte[] sha256(byte[] content) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(content);
  }

  private static UploadSpec spec(byte[] content, String uploadId) throws Exception {
    return new UploadSpec(
        casKey(content), uploadId, content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, sha256(content))), false);
  }

  private static void write(BlobStore store, byte[] content) throws Exception {
    Upload u = await(store.openUpload(spec(content, "u-" + UUID.randomUUID())));
    append(u, content, 0, content.length);
    assertThat(await(u.finish())).isEqualTo(content.length);
  }

  private static void append(Upload u, byte[] data, int from, int to) throws Exception {
    for (int i = from; i < to; i += 256 * 1024) {
      await(u.append(ByteBuffer.wrap(data, i, Math.min(256 * 1024, to - i))));
    }
  }

  /**
   * Waits until the tier has kept {@code n} blobs: a reader has every byte a little before the
   * fill has seen the end of the blob and published it.
   */
  private static void awaitFills(TieredStore tier, long n) throws InterruptedException {
    awaitCount(() -> tier.counters().fills(), n, "fills");
  }

  /** Waits until {@code count} reaches {@code n}, for at most 30 s, and checks it is {@code n}. */
  private static void awaitCount(LongSupplier count, long n, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (count.getAsLong() < n && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(count.getAsLong()).as(what).isEqualTo(n);
  }

  private static byte[] read(BlobStore store, BlobKey key) throws Exception {
    try (BlobReader r = await(store.openReader(key, 0, 0))) {
      return drain(r);
    }
  }

  private static byte[] drain(BlobReader r) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer chunk;
    while ((chunk = await(r.next())) != null) {
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      out.write(b);
    }
    return out.toByteArray();
  }

  @Test
  void read_ofBlobWrittenThroughTier_isServedFromDiskWithoutGet() throws Exception {
    TieredStore tier = tiered(s3Store(), 64L << 20);
    byte[] content = bytes(3 * SEGMENT + 17, 1);
    write(tier, content);
    gets.set(0);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(gets.get()).isZero();
    assertThat(tier.counters().hits()).isEqualTo(1);
    assertThat(tier.counters().misses()).isZero();
  }

  @Test
  void read_ofBlobOnlyInS3_fillsTheTier_andTheSecondReadMakesNoGet() throws Exception {
    byte[] content = bytes(5 * SEGMENT + 3, 2);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    gets.set(0);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    int firstGets = gets.get();
    assertThat(firstGets).isPositive();
    assertThat(tier.counters().misses()).isEqualTo(1);
    awaitFills(tier, 1);
    assertThat(tier.counters().fillBytes()).isEqualTo(content.length);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(gets.get()).isEqualTo(firstGets);
    assertThat(tier.counters().hits()).isEqualTo(1);
  }

  @Test
  void rangedRead_ofFilledBlob_returnsTheRangeFromDisk() throws Exception {
    byte[] content = bytes(2 * SEGMENT + 5, 3);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    read(tier, casKey(content));
    awaitFills(tier, 1);
    gets.set(0);

    try (BlobReader r = await(tier.openReader(casKey(content), SEGMENT - 3, SEGMENT + 6))) {
      assertThat(r.blobSize()).isEqualTo(content.length);
      assertThat(drain(r))
          .isEqualTo(java.util.Arrays.copyOfRange(content, SEGMENT - 3, 2 * SEGMENT + 3));
    }
    assertThat(gets.get()).isZero();
  }

  @Test
  void concurrentReaders_ofOneFillingBlob_shareOneDownload() throws Exception {
    byte[] content = bytes(8 * SEGMENT + 1, 4);
    write(s3Store(), content);
    // How many GETs one download of the blob takes.
    gets.set(0);
    read(s3Store(), casKey(content));
    int oneDownload = gets.get();
    HeldReads held = new HeldReads(s3Store());
    TieredStore tier = tiered(held, 64L << 20);
    gets.set(0);

    BlobReader first = await(tier.openReader(casKey(content), 0, 0));
    ByteBuffer firstChunk = await(first.next());
    // The fill holds after its first chunk: the second reader starts while it is unfinished.
    BlobReader second = await(tier.openReader(casKey(content), 0, 0));
    held.release();
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    a.write(firstChunk.array(), firstChunk.arrayOffset() + firstChunk.position(),
        firstChunk.remaining());
    a.write(drain(first));
    byte[] b = drain(second);
    first.close();
    second.close();

    assertThat(a.toByteArray()).isEqualTo(content);
    assertThat(b).isEqualTo(content);
    assertThat(held.readersOpened()).isEqualTo(1);
    assertThat(gets.get()).isEqualTo(oneDownload);
    awaitFills(tier, 1);
  }

  @Test
  void tier_overItsLimit_evictsTheLeastRecentlyUsed() throws Exception {
    S3BlobStore store = s3Store();
    TieredStore tier = tiered(store, 3L * SEGMENT + SEGMENT / 2);
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      byte[] content = bytes(SEGMENT, 10 + i);
      blobs.add(content);
      write(tier, content);
    }
    gets.set(0);

    assertThat(tier.counters().disk().evictedObjects()).isEqualTo(1);
    assertThat(tier.counters().disk().storedBytes()).isLessThanOrEqualTo(tier.maxBytes());
    assertThat(read(tier, casKey(blobs.get(3)))).isEqualTo(blobs.get(3));
    assertThat(gets.get()).as("GETs for the most recent blob").isZero();
    assertThat(read(tier, casKey(blobs.get(0)))).isEqualTo(blobs.get(0));
    assertThat(gets.get()).as("GETs for the evicted blob").isPositive();
  }

  @Test
  void corruptedTierFile_isDroppedAndRefilled_andNeverServed() throws Exception {
    byte[] content = bytes(2 * SEGMENT + 9, 5);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    read(tier, casKey(content));
    awaitFills(tier, 1);
    Path file = tierDir.resolve("blobs").resolve(casKey(content).value());
    byte[] corrupt = content.clone();
    corrupt[SEGMENT] ^= 1;
    Files.write(file, corrupt);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    gets.set(0);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(tier.counters().dropped()).isEqualTo(1);
    assertThat(gets.get()).as("GETs of the refill").isPositive();
    awaitFills(tier, 2);
    assertThat(Files.readAllBytes(file)).isEqualTo(content);
    int refill = gets.get();
    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(gets.get()).isEqualTo(refill);
  }

  @Test
  void blobInS3ThatIsNotWhatItsKeyNames_isReadAsS3HoldsIt_butNeverKept() throws Exception {
    byte[] content = bytes(3 * SEGMENT + 11, 13);
    byte[] other = bytes(content.length, 14);
    // Bytes put under the key of other bytes, past the server's checks.
    await(s3Store().put(casKey(content), ByteBuffer.wrap(other)));
    TieredStore tier = tiered(s3Store(), 64L << 20);

    assertThat(read(tier, casKey(content))).isEqualTo(other);
    awaitCount(() -> tier.counters().rejected(), 1, "rejected copies");
    assertThat(tier.counters().fills()).isZero();
    assertThat(tierDir.resolve("blobs").resolve(casKey(content).value())).doesNotExist();
    assertThat(tierDir.resolve("tmp")).isEmptyDirectory();
    gets.set(0);
    assertThat(read(tier, casKey(content))).isEqualTo(other);
    assertThat(gets.get()).as("GETs of the second read").isPositive();
    assertThat(tier.counters().hits()).isZero();
  }

  @Test
  void tornTierFile_foundAtRestart_isDroppedAndRefilled() throws Exception {
    byte[] content = bytes(SEGMENT + 100, 6);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    read(tier, casKey(content));
    awaitFills(tier, 1);
    tier.close();
    opened.remove(tier);
    Path file = tierDir.resolve("blobs").resolve(casKey(content).value());
    byte[] torn = java.util.Arrays.copyOf(content, SEGMENT);
    Files.write(file, torn);
    Path leftover = tierDir.resolve("tmp").resolve("half-written");
    Files.write(leftover, new byte[10]);

    TieredStore restarted = tiered(s3Store(), 64L << 20);
    assertThat(leftover).doesNotExist();
    assertThat(read(restarted, casKey(content))).isEqualTo(content);
    assertThat(restarted.counters().dropped()).isEqualTo(1);
    awaitFills(restarted, 1);
    assertThat(Files.size(file)).isEqualTo(content.length);
  }

  @Test
  void restart_withWarmTier_servesWithoutGets() throws Exception {
    byte[] content = bytes(3 * SEGMENT, 7);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    write(tier, content);
    tier.close();
    opened.remove(tier);

    TieredStore restarted = tiered(s3Store(), 64L << 20);
    gets.set(0);
    assertThat(restarted.counters().disk().storedBytes()).isEqualTo(content.length);
    assertThat(read(restarted, casKey(content))).isEqualTo(content);
    assertThat(gets.get()).isZero();
    assertThat(restarted.counters().hits()).isEqualTo(1);
  }

  @Test
  void uploadStartedThroughTier_isResumedByAReplicaWithoutIt() throws Exception {
    byte[] content = bytes((int) (2 * S3StoreConfig.MIN_PART_BYTES + 1234), 8);
    String uploadId = "u-" + UUID.randomUUID();
    TieredStore tier = tiered(s3Store(), 64L << 20);
    Upload first = await(tier.openUpload(spec(content, uploadId)));
    append(first, content, 0, (int) S3StoreConfig.MIN_PART_BYTES + 4096);
    long committed = await(first.suspend());
    assertThat(committed).isEqualTo(S3StoreConfig.MIN_PART_BYTES);

    S3BlobStore plain = s3Store();
    UploadStatus status = await(plain.queryUpload(spec(content, uploadId)));
    assertThat(status.committedSize()).isEqualTo(committed);
    Upload resumed = await(plain.openUpload(spec(content, uploadId)));
    assertThat(resumed.committedSize()).isEqualTo(committed);
    append(resumed, content, (int) committed, content.length);
    assertThat(await(resumed.finish())).isEqualTo(content.length);

    assertThat(read(plain, casKey(content))).isEqualTo(content);
    assertThat(Files.exists(tierDir.resolve("blobs").resolve(casKey(content).value()))).isFalse();
    assertThat(read(tier, casKey(content))).isEqualTo(content);
  }

  @Test
  void actionResultsAndObjects_areNeverTiered() throws Exception {
    TieredStore tier = tiered(s3Store(), 64L << 20);
    BlobKey ac = BlobKey.of("main/ac/sha256/" + "ab".repeat(32));
    await(tier.put(ac, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    gets.set(0);

    assertThat(await(tier.get(ac, 100)).remaining()).isEqualTo(3);
    assertThat(read(tier, ac)).containsExactly(1, 2, 3);
    assertThat(gets.get()).isEqualTo(2);
    assertThat(tier.counters().disk().storedObjects()).isZero();
  }

  @Test
  void blobLargerThanTheTier_isReadFromS3_andNotKept() throws Exception {
    byte[] content = bytes(3 * SEGMENT, 9);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 2L * SEGMENT);
    gets.set(0);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(tier.counters().fills()).isZero();
    assertThat(tier.counters().disk().storedBytes()).isZero();
    assertThat(gets.get()).as("GETs of two reads").isGreaterThanOrEqualTo(2);
  }

  @Test
  void tierDiskFailing_readsFromS3Instead() throws Exception {
    byte[] content = bytes(2 * SEGMENT + 1, 12);
    write(s3Store(), content);
    TieredStore tier = tiered(s3Store(), 64L << 20);
    // Nothing can be created under tmp/ once it is a file: every copy fails on the tier's disk.
    Path tmp = tierDir.resolve("tmp");
    Files.delete(tmp);
    Files.write(tmp, new byte[1]);

    assertThat(read(tier, casKey(content))).isEqualTo(content);
    assertThat(tier.counters().fills()).isZero();
  }
}
