package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** What only the S3 store has: checksum modes, ListParts paging, idle-upload reaping, errors. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3BlobStoreTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

  @BeforeAll
  static void startS3() {
    s3 = S3MockFixture.start();
    System.out.println("S3 store tests: backend S3Mock at " + s3.endpoint());
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  /** Every request the client sent: operation name and headers. */
  static final class Recorder implements ExecutionInterceptor {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attrs) {
      lines.add(
          attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME) + " "
              + context.httpRequest().headers().keySet().toString().toLowerCase());
    }

    long count(String operation) {
      return lines.stream().filter(l -> l.startsWith(operation + " ")).count();
    }
  }

  private static S3StoreConfig.Builder config(String prefix) {
    return s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(2);
  }

  private static byte[] bytes(long n, int seed) {
    byte[] b = new byte[(int) n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static void append(Upload u, byte[] data, int from, int to) throws Exception {
    for (int i = from; i < to; i += 256 * 1024) {
      await(u.append(ByteBuffer.wrap(data, i, Math.min(256 * 1024, to - i))));
    }
  }

  private static UploadSpec spec(BlobKey key) {
    return new UploadSpec(key, UUID.randomUUID().toString(), -1, Optional.empty(), false);
  }

  private static StorageException failure(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e);
    }
    throw new AssertionError("expected a failure");
  }

  private static void uploadAndCheck(S3StoreConfig.ChecksumMode mode, Recorder rec) throws Exception {
    byte[] data = bytes(PART + PART / 2, 1);
    BlobKey k = BlobKey.of("sums/" + mode);
    try (BlobStore store =
        S3BlobStore.create(
            config("checksums-" + UUID.randomUUID()).checksumMode(mode).interceptors(List.of(rec)).build(),
            new MemoryBudget(64L << 20))) {
      Upload u = await(store.openUpload(spec(k)));
      append(u, data, 0, data.length);
      assertThat(await(u.finish())).isEqualTo(data.length);
      await(store.put(BlobKey.of("sums/small-" + mode), ByteBuffer.wrap(new byte[] {1, 2})));
      assertThat(await(store.get(k, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void checksumWhenRequired_sendsNoTrailers_onlyThePartsOwnSha256Header_andStillWorks()
      throws Exception {
    Recorder rec = new Recorder();
    uploadAndCheck(S3StoreConfig.ChecksumMode.WHEN_REQUIRED, rec);
    assertThat(rec.count("UploadPart")).isEqualTo(2);
    assertThat(rec.lines)
        .filteredOn(l -> l.startsWith("UploadPart "))
        .allMatch(l -> l.contains("x-amz-checksum-sha256"))
        .noneMatch(l -> l.contains("x-amz-trailer") || l.contains("x-amz-sdk-checksum"));
    assertThat(rec.lines)
        .filteredOn(l -> l.startsWith("PutObject "))
        .isNotEmpty()
        .noneMatch(l -> l.contains("x-amz-trailer") || l.contains("x-amz-checksum")
            || l.contains("x-amz-sdk-checksum"));
  }

  @Test
  void checksumWhenSupported_sendsChecksums_andStillWorks() throws Exception {
    Recorder rec = new Recorder();
    uploadAndCheck(S3StoreConfig.ChecksumMode.WHEN_SUPPORTED, rec);
    assertThat(rec.lines)
        .filteredOn(l -> l.startsWith("UploadPart "))
        .hasSize(2)
        .allMatch(l -> l.contains("x-amz-trailer") || l.contains("x-amz-checksum")
            || l.contains("x-amz-sdk-checksum"));
  }

  @Test
  void committedSize_isReadAcrossListPartsPages() throws Exception {
    String prefix = "paging-" + UUID.randomUUID();
    byte[] data = bytes(3 * PART + 10, 2);
    UploadSpec spec = spec(BlobKey.of("paged/blob"));
    try (BlobStore first = S3BlobStore.create(config(prefix).build(), new MemoryBudget(64L << 20))) {
      Upload u = await(first.openUpload(spec));
      append(u, data, 0, data.length);
      assertThat(await(u.suspend())).isEqualTo(3 * PART);
    }
    Recorder rec = new Recorder();
    try (BlobStore second =
        S3BlobStore.create(
            config(prefix).listPartsPageSize(1).interceptors(List.of(rec)).build(),
            new MemoryBudget(64L << 20))) {
      assertThat(await(second.queryUpload(spec))).isEqualTo(new UploadStatus(3 * PART, false, true));
      assertThat(rec.count("ListParts")).isGreaterThanOrEqualTo(3);
      Upload u = await(second.openUpload(spec));
      assertThat(u.committedSize()).isEqualTo(3 * PART);
      append(u, data, (int) (3 * PART), data.length);
      assertThat(await(u.finish())).isEqualTo(data.length);
      assertThat(await(second.get(spec.key(), Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void abortIdleUploads_abortsOnlyUploadsIdleLongerThanAsked() throws Exception {
    String prefix = "reaper-" + UUID.randomUUID();
    try (S3BlobStore store = S3BlobStore.create(config(prefix).build(), new MemoryBudget(64L << 20))) {
      UploadSpec spec = spec(BlobKey.of("idle/blob"));
      Upload u = await(store.openUpload(spec));
      append(u, bytes(PART + 5, 3), 0, (int) PART + 5);
      assertThat(await(u.suspend())).isEqualTo(PART);

      assertThat(await(store.abortIdleUploads(Duration.ofHours(1)))).isZero();
      assertThat(await(store.queryUpload(spec))).isEqualTo(new UploadStatus(PART, false, true));

      Thread.sleep(1500);
      assertThat(await(store.abortIdleUploads(Duration.ofMillis(500)))).isEqualTo(1);
      assertThat(await(store.queryUpload(spec))).isEqualTo(UploadStatus.unknown());
      assertThat(await(store.openUpload(spec)).committedSize()).isZero();
    }
  }

  @Test
  void missingBucket_failsWithAMessageNamingIt() throws Exception {
    try (BlobStore store =
        S3BlobStore.create(
            s3.storeConfig().bucket("no-such-bucket-here").build(), new MemoryBudget(1 << 20))) {
      StorageException e = failure(store.put(BlobKey.of("a/b"), ByteBuffer.wrap(new byte[] {1})));
      assertThat(e.reason()).isEqualTo(StorageException.Reason.INTERNAL);
      assertThat(e.getMessage())
          .contains("bucket 'no-such-bucket-here' does not exist")
          .doesNotContain(S3MockFixture.SECRET_KEY);
    }
  }

  @Test
  void missingKey_isNotFound_namingBucketAndKey() throws Exception {
    try (BlobStore store = S3BlobStore.create(config("errors").build(), new MemoryBudget(1 << 20))) {
      StorageException e = failure(store.get(BlobKey.of("not/there"), 10));
      assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
      assertThat(e.getMessage()).contains("s3://" + s3.bucket() + "/errors/not/there");
    }
  }

  @Test
  void unreachableEndpoint_isUnavailable() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    try (BlobStore store =
        S3BlobStore.create(
            s3.storeConfig()
                .endpointOverride(URI.create("http://127.0.0.1:" + port))
                .requestTimeout(Duration.ofSeconds(20))
                .build(),
            new MemoryBudget(1 << 20))) {
      StorageException e = failure(store.get(BlobKey.of("x"), 10));
      assertThat(e.reason()).isEqualTo(StorageException.Reason.UNAVAILABLE);
      assertThat(e.getMessage()).contains("GET s3://" + s3.bucket() + "/x");
    }
  }

  @Test
  void reservedRecordFolder_isNotAValidBlobKey() throws Exception {
    try (BlobStore store = S3BlobStore.create(config("reserved").build(), new MemoryBudget(1 << 20))) {
      StorageException e = failure(store.put(BlobKey.of(".uploads/x"), ByteBuffer.allocate(1)));
      assertThat(e.reason()).isEqualTo(StorageException.Reason.INVALID_REQUEST);
    }
  }

  @Test
  void configToString_hidesTheSecretKey() {
    S3StoreConfig c = s3.storeConfig().build();
    assertThat(c.toString()).contains(S3MockFixture.ACCESS_KEY).doesNotContain(S3MockFixture.SECRET_KEY);
  }

  @Test
  void declaredSizeNeedingPartsBeyondTheLargestShare_isRefusedBeforeAnythingIsReservedOrSent()
      throws Exception {
    Recorder recorder = new Recorder();
    MemoryBudget budget = new MemoryBudget(64L << 20, 16L << 20);
    try (BlobStore store =
        S3BlobStore.create(
            config("oversize").interceptors(List.of(recorder)).build(), budget)) {
      // The store's start-up probe of conditional writes is not part of what is asserted here.
      ((S3BlobStore) store).records().conditions().get(60, TimeUnit.SECONDS);
      recorder.lines.clear();
      // 200 GiB in 10,000 parts needs parts of 21 MiB, more than one buffer may hold.
      StorageException big =
          failure(
              store.openUpload(
                  new UploadSpec(
                      BlobKey.of("big/blob"), "u1", 200L << 30, Optional.empty(), false)));
      assertThat(big.reason()).isEqualTo(StorageException.Reason.INVALID_REQUEST);
      assertThat(big.getMessage())
          .contains(
              "big/blob declares 214748364800 bytes, which need parts of 22020096 bytes",
              "(expected: parts <= 16777216 bytes, the largest buffer this server's memory"
                  + " budget allows; blobs up to 167772160000 bytes fit)");
      StorageException beyondS3 =
          failure(
              store.openUpload(
                  new UploadSpec(
                      BlobKey.of("huge/blob"), "u2", 6L << 40, Optional.empty(), false)));
      assertThat(beyondS3.getMessage())
          .contains("huge/blob declares 6597069766656 bytes (expected: <= 5497558138880, S3's"
              + " largest object)");
      assertThat(recorder.lines).isEmpty();
      assertThat(budget.usedBytes()).isZero();
      assertThat(budget.refusedTotal()).isEqualTo(1);
    }
  }

  @Test
  void slowReaders_readAheadOnlyWithinHalfTheBudget_andAnHonestWriteAndReadComplete()
      throws Exception {
    MemoryBudget budget = new MemoryBudget(64L << 20, 16L << 20);
    int segment = 1 << 20;
    try (BlobStore store =
        S3BlobStore.create(
            config("slow-readers").readSegmentBytes(segment).maxSegmentsInFlight(8).build(),
            budget)) {
      byte[] stored = bytes(12 << 20, 11);
      await(store.put(BlobKey.of("shared/blob"), ByteBuffer.wrap(stored)));
      List<BlobReader> slow = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        BlobReader r = await(store.openReader(BlobKey.of("shared/blob"), 0, 0));
        // One chunk taken, then nothing more: a reader that stopped.
        assertThat(await(r.next()).get(0)).isEqualTo(stored[0]);
        slow.add(r);
      }
      // Eight segments each would be 80 MiB, past the whole budget; read-ahead stops at half of
      // it, and each reader beyond holds only the segment it reads.
      assertThat(budget.usedBytes()).isLessThanOrEqualTo((32L << 20) + 10L * segment);

      byte[] honest = bytes(6 << 20, 12);
      Upload u =
          await(
              store.openUpload(
                  new UploadSpec(
                      BlobKey.of("honest/blob"), "h", honest.length, Optional.empty(), false)));
      await(u.append(ByteBuffer.wrap(honest)));
      assertThat(await(u.finish())).isEqualTo(honest.length);
      try (BlobReader r = await(store.openReader(BlobKey.of("honest/blob"), 0, 0))) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        take(r, out, Long.MAX_VALUE);
        assertThat(out.toByteArray()).isEqualTo(honest);
      }
      slow.forEach(BlobReader::close);
      assertThat(budget.usedBytes()).isZero();
    }
  }

  @Test
  void readersThatStopAfterAChunk_holdOneSegment_andOneThatReadsOnAsksAhead() throws Exception {
    MemoryBudget budget = new MemoryBudget(256L << 20, 64L << 20);
    int segment = 8 << 20;
    try (BlobStore store =
        S3BlobStore.create(
            config("stopped-readers").readSegmentBytes(segment).maxSegmentsInFlight(4).build(),
            budget)) {
      byte[] stored = bytes(48 << 20, 13);
      Upload u =
          await(
              store.openUpload(
                  new UploadSpec(BlobKey.of("shared/large"), "l", stored.length, Optional.empty(), false)));
      await(u.append(ByteBuffer.wrap(stored)));
      assertThat(await(u.finish())).isEqualTo(stored.length);
      List<BlobReader> stopped = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        BlobReader r = await(store.openReader(BlobKey.of("shared/large"), 0, 0));
        // One message's chunk of the first segment taken, then nothing more.
        ByteBuffer first = await(r.next());
        assertThat(first.remaining()).isBetween(1, BlobReader.MAX_CHUNK_BYTES);
        assertThat(first.get(0)).isEqualTo(stored[0]);
        stopped.add(r);
      }
      // Four segments each would be half the budget; each holds the one it reads.
      assertThat(budget.usedBytes()).isEqualTo(10L * segment);
      // ...however long it waits.
      Thread.sleep(200);
      assertThat(budget.usedBytes()).isEqualTo(10L * segment);

      try (BlobReader r = await(store.openReader(BlobKey.of("shared/large"), 0, 0))) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        take(r, out, segment / 2);
        // Half its first segment taken: it reads on, so the three segments after it are asked for.
        assertThat(budget.usedBytes()).isEqualTo(14L * segment);
        take(r, out, Long.MAX_VALUE);
        assertThat(out.toByteArray()).isEqualTo(stored);
      }
      stopped.forEach(BlobReader::close);
      assertThat(budget.usedBytes()).isZero();
    }
  }

  /** Takes chunks from {@code r} into {@code out} until it holds {@code atLeast} bytes or the end. */
  private static void take(BlobReader r, java.io.ByteArrayOutputStream out, long atLeast)
      throws Exception {
    while (out.size() < atLeast) {
      ByteBuffer b = await(r.next());
      if (b == null) {
        return;
      }
      byte[] chunk = new byte[b.remaining()];
      b.get(chunk);
      out.write(chunk);
    }
  }
}
