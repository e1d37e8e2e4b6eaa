package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * Against S3Mock: whole-object reads refused from the object's length before its body is read,
 * and the idle-upload sweep acting only on the store's own uploads, page by page, once at a time.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3BoundedReadAndSweepTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

  @BeforeAll
  static void startS3() {
    s3 = S3MockFixture.start();
    System.out.println("S3 bounds tests: backend S3Mock at " + s3.endpoint());
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  private static S3StoreConfig.Builder config(String prefix) {
    return s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(2);
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static StorageException failure(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e);
    }
    throw new AssertionError("expected a failure");
  }

  private static byte[] bytes(long n, int seed) {
    byte[] b = new byte[(int) n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Leaves an upload of {@code key} with one committed part and its record, as a crash would. */
  private static UploadSpec suspendedUpload(S3BlobStore store, BlobKey key) throws Exception {
    UploadSpec spec = new UploadSpec(key, UUID.randomUUID().toString(), -1, Optional.empty(), false);
    Upload u = await(store.openUpload(spec));
    byte[] data = bytes(PART + 5, 3);
    for (int i = 0; i < data.length; i += 1 << 20) {
      await(u.append(ByteBuffer.wrap(data, i, Math.min(1 << 20, data.length - i))));
    }
    assertThat(await(u.suspend())).isEqualTo(PART);
    return spec;
  }

  /** Starts a multipart upload with one small part, as another application sharing the bucket. */
  private static String foreignUpload(S3BlobStore store, String key) throws Exception {
    String id =
        await(store.client().createMultipartUpload(r -> r.bucket(s3.bucket()).key(key))).uploadId();
    await(
        store
            .client()
            .uploadPart(
                r -> r.bucket(s3.bucket()).key(key).uploadId(id).partNumber(1).contentLength(3L),
                AsyncRequestBody.fromBytes(new byte[] {1, 2, 3})));
    return id;
  }

  private static List<String> uploadIds(S3BlobStore store) throws Exception {
    List<String> ids = new ArrayList<>();
    for (MultipartUpload u :
        await(store.client().listMultipartUploads(r -> r.bucket(s3.bucket()))).uploads()) {
      ids.add(u.uploadId());
    }
    return ids;
  }

  @Test
  void read_startedWhileTheBudgetIsContended_holdsOneSmallSegment_andGrowsAsItsClientTakesThem()
      throws Exception {
    S3BlobStoreTest.Recorder rec = new S3BlobStoreTest.Recorder();
    MemoryBudget budget = new MemoryBudget(64L << 20);
    try (S3BlobStore store =
        S3BlobStore.create(
            config("contended-" + UUID.randomUUID())
                .readSegmentBytes(8 << 20)
                .maxSegmentsInFlight(4)
                .interceptors(List.of(rec))
                .build(),
            budget)) {
      BlobKey key = BlobKey.of("contended/blob");
      byte[] data = bytes(24L << 20, 9);
      await(store.put(key, ByteBuffer.wrap(data)));

      // Others hold 40 MiB of 64: more than the half read-ahead may use.
      MemoryBudget.Reservation others = await(budget.reserve(40L << 20));
      long gets = rec.count("GetObject");
      var reader = await(store.openReader(key, 0, 0));
      ByteBuffer first = await(reader.next());
      // A client that takes no more holds one 256 KiB segment, not an 8 MiB one.
      assertThat(budget.usedBytes() - (40L << 20)).isEqualTo(256 << 10);
      java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
      for (ByteBuffer b = first; b != null; b = await(reader.next())) {
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        read.write(chunk);
      }
      reader.close();
      assertThat(read.toByteArray()).isEqualTo(data);
      // 256 KiB, doubling to 8 MiB as the bytes are taken: 256K+512K+1M+2M+4M, then 8M, 8M, 256K.
      assertThat(rec.count("GetObject") - gets).isEqualTo(8);
      assertThat(budget.usedBytes()).isEqualTo(40L << 20);

      // With the budget free, a read uses whole segments from the start.
      others.close();
      gets = rec.count("GetObject");
      reader = await(store.openReader(key, 0, 0));
      await(reader.next());
      assertThat(budget.usedBytes()).isGreaterThanOrEqualTo(8L << 20);
      while (await(reader.next()) != null) {
        // Draining.
      }
      reader.close();
      assertThat(rec.count("GetObject") - gets).isEqualTo(3);
      assertThat(budget.usedBytes()).isZero();
    }
  }

  @Test
  void get_objectLargerThanAllowed_refusedFromItsLength_withOneRequest_andTheStoreGoesOn()
      throws Exception {
    S3BlobStoreTest.Recorder rec = new S3BlobStoreTest.Recorder();
    try (S3BlobStore store =
        S3BlobStore.create(
            config("bounded-" + UUID.randomUUID()).interceptors(List.of(rec)).build(),
            new MemoryBudget(64L << 20))) {
      BlobKey big = BlobKey.of("big/blob");
      byte[] data = bytes(24L << 20, 5);
      await(store.put(big, ByteBuffer.wrap(data)));
      long before = rec.count("GetObject");
      for (int i = 0; i < 8; i++) {
        StorageException e = failure(store.get(big, 1));
        assertThat(e.reason()).isEqualTo(StorageException.Reason.TOO_LARGE);
        assertThat(e.getMessage()).isEqualTo("big/blob is 25165824 bytes (expected: <= 1)");
      }
      // One GET each, not retried: the refusal is the answer.
      assertThat(rec.count("GetObject") - before).isEqualTo(8);
      BlobKey small = BlobKey.of("small/blob");
      await(store.put(small, ByteBuffer.wrap(new byte[] {7, 8, 9})));
      assertThat(await(store.get(small, 3)).array()).containsExactly(7, 8, 9);
      assertThat(await(store.get(big, data.length)).array()).isEqualTo(data);
    }
  }

  @Test
  void sweep_emptyPrefix_abortsOnlyOwnIdleUploads_foreignUploadsSurvive() throws Exception {
    try (S3BlobStore store =
        S3BlobStore.create(config("").build(), new MemoryBudget(64L << 20))) {
      UploadSpec ours = suspendedUpload(store, BlobKey.of("sweep-empty/ours"));
      String foreignElsewhere = foreignUpload(store, "another-app/video.bin");
      // A foreign upload where one of ours could be: no record of ours names it.
      String foreignBeside = foreignUpload(store, "sweep-empty/not-ours");
      Thread.sleep(1500);

      assertThat(await(store.abortIdleUploads(Duration.ofMillis(500)))).isEqualTo(1);

      assertThat(await(store.queryUpload(ours))).isEqualTo(UploadStatus.unknown());
      assertThat(uploadIds(store)).contains(foreignElsewhere, foreignBeside);
      assertThat(
              await(
                      store
                          .client()
                          .listParts(
                              r ->
                                  r.bucket(s3.bucket())
                                      .key("another-app/video.bin")
                                      .uploadId(foreignElsewhere)))
                  .parts())
          .hasSize(1);
      // A second sweep, as another replica's, finds nothing left and fails nothing.
      assertThat(await(store.abortIdleUploads(Duration.ofMillis(500)))).isZero();
      assertThat(uploadIds(store)).contains(foreignElsewhere, foreignBeside);
    }
  }

  @Test
  void sweep_manyRecords_actsPageByPage_andKeepsUploadsStillInUse() throws Exception {
    String prefix = "sweep-pages-" + UUID.randomUUID();
    S3BlobStoreTest.Recorder rec = new S3BlobStoreTest.Recorder();
    try (S3BlobStore store =
        S3BlobStore.create(config(prefix).interceptors(List.of(rec)).build(), new MemoryBudget(64L << 20))) {
      List<UploadSpec> idle = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        idle.add(suspendedUpload(store, BlobKey.of("idle/" + i)));
      }
      Thread.sleep(1500);
      UploadSpec fresh = suspendedUpload(store, BlobKey.of("fresh/blob"));
      long listed = rec.count("ListObjectsV2");

      assertThat(await(store.abortIdleUploads(Duration.ofMillis(1000), 2))).isEqualTo(5);

      // Six records, two a page: three pages.
      assertThat(rec.count("ListObjectsV2") - listed).isEqualTo(3);
      for (UploadSpec s : idle) {
        assertThat(await(store.queryUpload(s))).isEqualTo(UploadStatus.unknown());
      }
      assertThat(await(store.queryUpload(fresh))).isEqualTo(new UploadStatus(PART, false, true));
    }
  }

  @Test
  void sweep_askedAgainWhileRunning_joinsTheRunningSweep() throws Exception {
    String prefix = "sweep-once-" + UUID.randomUUID();
    S3BlobStoreTest.Recorder rec = new S3BlobStoreTest.Recorder();
    try (S3BlobStore store =
        S3BlobStore.create(config(prefix).interceptors(List.of(rec)).build(), new MemoryBudget(64L << 20))) {
      suspendedUpload(store, BlobKey.of("once/blob"));
      Thread.sleep(1500);
      long listed = rec.count("ListObjectsV2");
      long aborts = rec.count("AbortMultipartUpload");
      CompletableFuture<Integer> first = store.abortIdleUploads(Duration.ofMillis(500));
      CompletableFuture<Integer> second = store.abortIdleUploads(Duration.ofMillis(500));
      assertThat(await(first)).isEqualTo(1);
      assertThat(await(second)).isEqualTo(1);
      assertThat(rec.count("ListObjectsV2") - listed).isEqualTo(1);
      assertThat(rec.count("AbortMultipartUpload") - aborts).isEqualTo(1);
      // Once it is over, the next call sweeps again.
      assertThat(await(store.abortIdleUploads(Duration.ofMillis(500)))).isZero();
      assertThat(rec.count("ListObjectsV2") - listed).isEqualTo(2);
    }
  }
}
