package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A CAS key holds exactly the bytes its digest names, or nothing, whatever writers of one upload
 * name send and whichever of their UploadParts fail.
 */
class S3UploadIntegrityTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

  private final S3Faults faults = new S3Faults();
  private S3BlobStore store;
  private S3BlobStore other;

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

  @BeforeEach
  void openStores() {
    String prefix = "integrity-" + UUID.randomUUID();
    store =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(2)
                .interceptors(List.of(faults)).build(),
            new MemoryBudget(64L << 20));
    other =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).build(),
            new MemoryBudget(64L << 20));
  }

  @AfterEach
  void closeStores() {
    store.close();
    other.close();
  }

  /**
   * Writer A's part 1 (X1) is hashed and its UploadPart fails; B and C open the upload; B's part
   * 1 (Y1) lands; C sends X1, hashed last, and its UploadPart fails; D resumes and sends the rest
   * of X. Before hash states were bound to the parts S3 holds, D's finish verified against C's
   * state and completed with B's part: the key held Y1 + X2.
   */
  @Test
  void failedPartOfOneWriter_neverVouchesForAnothersPart() throws Exception {
    byte[] x = bytes(PART + 1000, 1);
    byte[] y = x.clone();
    for (int i = 0; i < PART; i += 4096) {
      y[i] ^= 0x5a;
    }
    UploadSpec spec = verified(x);

    Upload a = await(store.openUpload(spec));
    faults.failNext("UploadPart", 1);
    appendQuietly(a, x, a.committedSize(), PART);
    settle(a);

    Upload b = await(store.openUpload(spec));
    Upload c = await(store.openUpload(spec));
    append(b, y, b.committedSize(), PART);
    settle(b);
    faults.failNext("UploadPart", 1);
    appendQuietly(c, x, c.committedSize(), PART);
    settle(c);
    assertThat(faults.failed()).isEqualTo(2);

    Upload d = await(store.openUpload(spec));
    append(d, x, d.committedSize(), x.length);
    try {
      assertThat(await(d.finish())).isEqualTo(x.length);
    } catch (Exception e) {
      // Refusing is allowed; publishing other bytes is not.
    }
    assertHoldsExactlyOrNothing(spec.key(), x);

    // An honest writer then finishes.
    Upload e = await(other.openUpload(spec));
    append(e, x, e.committedSize(), x.length);
    assertThat(await(e.finish())).isEqualTo(x.length);
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(x);
  }

  @Test
  void partReplacedAfterItWasRecorded_makesFinishAConflict_andPublishesNothing() throws Exception {
    byte[] x = bytes(2 * PART + 1000, 2);
    UploadSpec spec = verified(x);
    Upload w = await(store.openUpload(spec));
    append(w, x, 0, 2 * PART);
    StoredRecord record = recordWithParts(spec, 2);

    // Another party puts other bytes in part 1 of the same S3 upload.
    String objectKey = store.keys().object(spec.key());
    await(
        store.client().uploadPart(
            r -> r.bucket(s3.bucket()).key(objectKey).uploadId(record.record().s3UploadId())
                .partNumber(1).contentLength(PART),
            software.amazon.awssdk.core.async.AsyncRequestBody.fromBytes(bytes(PART, 3))));

    // The writer's digest is right, but Complete names the part it sent: S3 refuses.
    append(w, x, 2 * PART, x.length);
    StorageException e = StorageException.from(failureOf(w.finish()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.CONFLICT);
    assertThat(await(other.size(spec.key()))).isEmpty();

    // A resume no longer counts the replaced part, and an honest writer finishes.
    Upload again = await(other.openUpload(spec));
    assertThat(again.committedSize()).isZero();
    append(again, x, 0, x.length);
    assertThat(await(again.finish())).isEqualTo(x.length);
    assertHoldsExactlyOrNothing(spec.key(), x);
  }

  /** The record of {@code spec} once it names {@code parts} parts. */
  private StoredRecord recordWithParts(UploadSpec spec, int parts) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Optional<StoredRecord> r = await(store.records().read(spec));
      if (r.isPresent() && r.get().record().etags().size() >= parts) {
        return r.get();
      }
      assertThat(System.nanoTime()).as("record with " + parts + " parts").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void multipartUploadEndedByAnother_isAConflict() throws Exception {
    byte[] x = bytes(3 * PART, 4);
    UploadSpec spec = verified(x);
    Upload w = await(store.openUpload(spec));
    append(w, x, 0, PART);
    assertThat(await(w.suspend())).isEqualTo(PART);
    StoredRecord record = await(store.records().read(spec)).orElseThrow();
    String objectKey = store.keys().object(spec.key());
    Upload resumed = await(store.openUpload(spec));
    await(store.multipart().abortMultipart(objectKey, record.record().s3UploadId()));

    appendQuietly(resumed, x, resumed.committedSize(), 3 * PART);
    StorageException e = StorageException.from(failureOf(resumed.finish()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.CONFLICT);
    assertThat(await(other.size(spec.key()))).isEmpty();
  }

  @Test
  void corruptUploadRecord_isInternal_notTheClientsFault() throws Exception {
    byte[] x = bytes(PART + 10, 5);
    UploadSpec spec = verified(x);
    String recordKey = store.keys().record(spec);
    await(
        store.client().putObject(
            r -> r.bucket(s3.bucket()).key(recordKey),
            software.amazon.awssdk.core.async.AsyncRequestBody.fromString("state.x=%%%\n")));
    StorageException e = StorageException.from(failureOf(store.openUpload(spec)));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.INTERNAL);
    assertThat(e.getMessage()).contains("upload record").contains("corrupt");
  }

  @Test
  void twoFreshWriters_theSecondToRecordLoses_andTheFirstFinishes() throws Exception {
    byte[] x = bytes(2 * PART + 10, 6);
    UploadSpec spec = verified(x);
    Upload first = await(store.openUpload(spec));
    Upload second = await(other.openUpload(spec));
    append(first, x, 0, PART);
    assertThat(await(first.suspend())).isEqualTo(PART);

    appendQuietly(second, x, 0, x.length);
    StorageException e = StorageException.from(failureOf(second.finish()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.CONFLICT);
    assertThat(e.getMessage()).contains("another writer holds the upload");

    Upload again = await(store.openUpload(spec));
    assertThat(again.committedSize()).isEqualTo(PART);
    append(again, x, PART, x.length);
    assertThat(await(again.finish())).isEqualTo(x.length);
    assertHoldsExactlyOrNothing(spec.key(), x);
  }

  @Test
  void noReplaceObject_anotherWriterPublishedAfterTheCheck_isAlreadyExists() throws Exception {
    byte[] mine = bytes(3000, 7);
    byte[] theirs = bytes(3000, 8);
    UploadSpec spec =
        new UploadSpec(BlobKey.of("files/" + UUID.randomUUID()), "object", -1, Optional.empty(), false);
    Upload u = await(store.openUpload(spec));
    append(u, mine, 0, mine.length);
    // The other writer publishes between this one's check and its PutObject.
    faults.beforeNext("PutObject", () -> other.put(spec.key(), ByteBuffer.wrap(theirs)).join());
    StorageException e = StorageException.from(failureOf(u.finish()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.ALREADY_EXISTS);
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(theirs);
  }

  @Test
  void noReplaceMultipartObject_anotherWriterPublishedBeforeComplete_isAlreadyExists()
      throws Exception {
    byte[] mine = bytes(PART + 3000, 9);
    byte[] theirs = bytes(3000, 10);
    UploadSpec spec =
        new UploadSpec(BlobKey.of("files/" + UUID.randomUUID()), "object", -1, Optional.empty(), false);
    Upload u = await(store.openUpload(spec));
    append(u, mine, 0, mine.length);
    faults.beforeNext(
        "CompleteMultipartUpload", () -> other.put(spec.key(), ByteBuffer.wrap(theirs)).join());
    StorageException e = StorageException.from(failureOf(u.finish()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.ALREADY_EXISTS);
    // The loser aborts its multipart upload. S3Mock (unlike S3) then deletes the object at the
    // key too, so here the key holds the winner's bytes or nothing, never the loser's.
    OptionalLong size = await(other.size(spec.key()));
    if (size.isPresent()) {
      assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(theirs);
    }
  }

  @Test
  void liveWriterOvertakenByAResume_losesAtItsNextRecordWrite_andTheResumeFinishes()
      throws Exception {
    byte[] x = bytes(3 * PART + 10, 11);
    UploadSpec spec = verified(x);
    Upload live = await(store.openUpload(spec));
    append(live, x, 0, PART);
    recordWithParts(spec, 1);

    // Another replica resumes the same upload and records part 2 first.
    Upload resumed = await(other.openUpload(spec));
    assertThat(resumed.committedSize()).isEqualTo(PART);
    append(resumed, x, PART, 2 * PART);
    recordWithParts(spec, 2);

    appendQuietly(live, x, PART, 2 * PART);
    StorageException e = StorageException.from(failureOf(live.suspend()));
    assertThat(e.reason()).isEqualTo(StorageException.Reason.CONFLICT);
    assertThat(e.getMessage()).contains("another writer holds the upload");

    append(resumed, x, 2 * PART, x.length);
    assertThat(await(resumed.finish())).isEqualTo(x.length);
    assertHoldsExactlyOrNothing(spec.key(), x);
    assertThat(await(other.size(spec.key()))).hasValue(x.length);
  }

  static Throwable failureOf(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return e;
    }
    throw new AssertionError("expected a failure");
  }

  /** Suspends {@code u} once its parts have ended, however; a failure is not this test's point. */
  private static void settle(Upload u) {
    try {
      u.suspend().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      // The failed part's writer fails; what matters is what it left behind.
    }
  }

  /** Appends as {@link #append} does, up to the first failure, which a failed part may cause. */
  static void appendQuietly(Upload u, byte[] data, long from, long to) {
    try {
      append(u, data, from, to);
    } catch (Exception e) {
      // The writer's part failed: it stops here, as its client would.
    }
  }

  private void assertHoldsExactlyOrNothing(BlobKey key, byte[] content) throws Exception {
    OptionalLong size = await(other.size(key));
    if (size.isPresent()) {
      byte[] stored = await(other.get(key, Integer.MAX_VALUE)).array();
      assertThat(sha256(stored)).as("digest of the bytes under " + key).isEqualTo(sha256(content));
      assertThat(stored).isEqualTo(content);
    }
  }

  static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static UploadSpec verified(byte[] content) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
    return new UploadSpec(
        BlobKey.of("cas/" + UUID.randomUUID()), "u-" + UUID.randomUUID(), content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), true);
  }

  static byte[] bytes(long n, int seed) {
    byte[] b = new byte[(int) n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static void append(Upload u, byte[] data, long from, long to) throws Exception {
    for (long i = from; i < to; i += 256 * 1024) {
      await(u.append(ByteBuffer.wrap(data, (int) i, (int) Math.min(256 * 1024, to - i))));
    }
  }

  static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  static StorageException.Reason reasonOf(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e).reason();
    }
    throw new AssertionError("expected a failure");
  }
}
