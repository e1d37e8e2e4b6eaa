package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@link BlobStore} contract, written once and run against every backend. A subclass opens
 * stores on one backend (each call a new instance over the same data, as another process would)
 * and states how its committed size grows.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
public abstract class BlobStoreContractTest {

  private static final long WAIT_SECONDS = 60;

  protected MemoryBudget budget;
  private final List<BlobStore> opened = new ArrayList<>();
  private BlobStore store;

  /** A new store instance over the same backend data as every other one of this test. */
  protected abstract BlobStore openStore(MemoryBudget budget);

  /** The name of the backend, printed so a run shows what it tested. */
  protected abstract String backendName();

  /** The unit sizes are built from: a part where the backend has parts. */
  protected abstract long partSizeBytes();

  /** The size of one read request, so ranges can be tested across its boundaries. */
  protected abstract int readSegmentBytes();

  /** What {@link Upload#suspend()} commits of {@code written} bytes. */
  protected abstract long committedAfterSuspend(long written);

  /** Whether {@code committed} is a size this backend may report as committed. */
  protected abstract boolean isCommitBoundary(long committed);

  @BeforeEach
  void openFirstStore() {
    System.out.println(getClass().getSimpleName() + ": backend " + backendName());
    budget = new MemoryBudget(64L * 1024 * 1024);
    store = newStore();
  }

  @AfterEach
  void closeStores() {
    opened.forEach(BlobStore::close);
    assertThat(budget.usedBytes()).as("budget bytes still reserved").isZero();
    assertThat(budget.peakBytes()).isLessThanOrEqualTo(budget.capacityBytes());
  }

  private BlobStore newStore() {
    BlobStore s = openStore(budget);
    opened.add(s);
    return s;
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private static StorageException.Reason reasonOf(CompletableFuture<?> f) {
    try {
      f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e).reason();
    }
    throw new AssertionError("expected a failure, got a result");
  }

  private static byte[] bytes(long n, int seed) {
    byte[] b = new byte[(int) n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** A fresh key; a store that treats some keys apart (a tier for CAS keys) may use those. */
  protected BlobKey key() {
    return BlobKey.of("contract/" + UUID.randomUUID());
  }

  private static UploadSpec verified(BlobKey key, byte[] content) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
    return new UploadSpec(
        key, "u-" + UUID.randomUUID(), content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), false);
  }

  private static UploadSpec unverified(BlobKey key, boolean overwrite) {
    return new UploadSpec(key, "u-" + UUID.randomUUID(), -1, Optional.empty(), overwrite);
  }

  /** Appends {@code data[from, to)} in 64 KiB messages, each after the previous one completed. */
  private static void append(Upload u, byte[] data, int from, int to) throws Exception {
    for (int i = from; i < to; i += 64 * 1024) {
      await(u.append(ByteBuffer.wrap(data, i, Math.min(64 * 1024, to - i))));
    }
  }

  private byte[] read(BlobStore s, BlobKey key, long offset, long limit) throws Exception {
    try (BlobReader r = await(s.openReader(key, offset, limit))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer chunk;
      while ((chunk = await(r.next())) != null) {
        assertThat(chunk.remaining()).isLessThanOrEqualTo(BlobReader.MAX_CHUNK_BYTES);
        byte[] b = new byte[chunk.remaining()];
        chunk.get(b);
        out.write(b);
      }
      return out.toByteArray();
    }
  }

  @Test
  void get_blobLargerThanAllowed_isTooLarge_namingItsSize_andAtTheLimitReturnsIt() throws Exception {
    BlobKey k = key();
    byte[] data = bytes(3 * 1024 * 1024 + 7, 4);
    await(store.put(k, ByteBuffer.wrap(data)));
    CompletableFuture<ByteBuffer> refused = store.get(k, data.length - 1);
    StorageException e = null;
    try {
      refused.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception x) {
      e = StorageException.from(x);
    }
    assertThat(e).isNotNull();
    assertThat(e.reason()).isEqualTo(StorageException.Reason.TOO_LARGE);
    // The size comes from the store's own record of the blob, read before any byte of it.
    assertThat(e.getMessage())
        .contains(k.toString())
        .contains("is " + data.length + " bytes (expected: <= " + (data.length - 1) + ")");
    assertThat(reasonOf(store.get(k, 1))).isEqualTo(StorageException.Reason.TOO_LARGE);
    assertThat(reasonOf(store.get(key(), 1))).isEqualTo(StorageException.Reason.NOT_FOUND);

    ByteBuffer exact = await(store.get(k, data.length));
    assertThat(exact.remaining()).isEqualTo(data.length);
    assertThat(exact.array()).isEqualTo(data);
  }

  @Test
  void put_thenGetAndSize_returnTheBytes() throws Exception {
    BlobKey k = key();
    byte[] data = bytes(1000, 1);
    await(store.put(k, ByteBuffer.wrap(data)));
    assertThat(await(store.get(k, Long.MAX_VALUE)).array()).isEqualTo(data);
    assertThat(await(store.size(k))).isEqualTo(OptionalLong.of(1000));
    assertThat(reasonOf(store.get(key(), Long.MAX_VALUE))).isEqualTo(StorageException.Reason.NOT_FOUND);
    assertThat(await(store.size(key()))).isEmpty();
  }

  @Test
  void findExisting_returnsExactlyTheStoredKeys() throws Exception {
    List<BlobKey> all = new ArrayList<>();
    List<BlobKey> stored = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      BlobKey k = key();
      all.add(k);
      if (i % 3 == 0) {
        await(store.put(k, ByteBuffer.wrap(new byte[] {(byte) i})));
        stored.add(k);
      }
    }
    Set<BlobKey> found = await(newStore().findExisting(all));
    assertThat(found).containsExactlyInAnyOrderElementsOf(stored);
  }

  @Test
  void smallUpload_isInvisibleUntilFinish_thenReadableWhole() throws Exception {
    byte[] data = bytes(300_000, 2);
    BlobKey k = key();
    Upload u = await(store.openUpload(verified(k, data)));
    assertThat(u.committedSize()).isZero();
    append(u, data, 0, data.length);
    assertThat(u.position()).isEqualTo(data.length);
    assertThat(await(store.size(k))).isEmpty();
    assertThat(reasonOf(store.openReader(k, 0, 0))).isEqualTo(StorageException.Reason.NOT_FOUND);
    assertThat(await(u.finish())).isEqualTo(data.length);
    assertThat(read(newStore(), k, 0, 0)).isEqualTo(data);
  }

  @Test
  void unchangingAppends_ofReadOnlyViews_publishTheSameBytes() throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes((int) (2 * part + 12_345), 12);
    BlobKey k = key();
    Upload u = await(store.openUpload(verified(k, data)));
    for (int i = 0; i < data.length; i += 256 * 1024) {
      ByteBuffer view = ByteBuffer.wrap(data, i, Math.min(256 * 1024, data.length - i));
      await(u.appendUnchanging(view.slice().asReadOnlyBuffer()));
    }
    assertThat(u.position()).isEqualTo(data.length);
    assertThat(await(u.finish())).isEqualTo(data.length);
    assertThat(read(newStore(), k, 0, 0)).isEqualTo(data);
  }

  @Test
  void emptyUpload_publishesAnEmptyBlob() throws Exception {
    BlobKey k = key();
    Upload u = await(store.openUpload(verified(k, new byte[0])));
    assertThat(await(u.finish())).isZero();
    assertThat(await(store.size(k))).isEqualTo(OptionalLong.of(0));
    assertThat(read(store, k, 0, 0)).isEmpty();
  }

  @Test
  void multiPartUpload_readsBackIdentical_includingRangesAcrossPartAndSegmentBoundaries()
      throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes(2 * part + part / 2, 3);
    BlobKey k = key();
    Upload u = await(store.openUpload(verified(k, data)));
    append(u, data, 0, data.length);
    assertThat(await(u.finish())).isEqualTo(data.length);

    BlobStore other = newStore();
    assertThat(read(other, k, 0, 0)).isEqualTo(data);
    int seg = readSegmentBytes();
    for (long offset : new long[] {part - 1, part, 2 * part - 3, seg - 2, 3L * seg - 1}) {
      assertThat(read(other, k, offset, 7))
          .as("7 bytes at %d", offset)
          .isEqualTo(Arrays.copyOfRange(data, (int) offset, (int) offset + 7));
    }
    // A range spanning several segments and a part boundary.
    int from = seg / 2;
    int to = (int) part + 2 * seg + 5;
    assertThat(read(other, k, from, to - from)).isEqualTo(Arrays.copyOfRange(data, from, to));
    assertThat(read(other, k, data.length - 5, 100))
        .isEqualTo(Arrays.copyOfRange(data, data.length - 5, data.length));
  }

  @Test
  void reads_outsideTheBlob_areOutOfRange_andMissingBlobsNotFound() throws Exception {
    BlobKey k = key();
    byte[] data = bytes(5000, 4);
    await(store.put(k, ByteBuffer.wrap(data)));
    assertThat(read(store, k, 5000, 0)).isEmpty();
    assertThat(reasonOf(store.openReader(k, 5001, 0))).isEqualTo(StorageException.Reason.OUT_OF_RANGE);
    assertThat(reasonOf(store.openReader(k, -1, 0))).isEqualTo(StorageException.Reason.OUT_OF_RANGE);
    assertThat(reasonOf(store.openReader(key(), 0, 0))).isEqualTo(StorageException.Reason.NOT_FOUND);
  }

  @Test
  void suspendedUpload_resumesOnANewStore_fromTheCommittedSize_andIsVerified() throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes(2 * part + part / 2, 5);
    BlobKey k = key();
    UploadSpec spec = verified(k, data);
    Upload first = await(store.openUpload(spec));
    int sent = (int) (2 * part + 12_345);
    append(first, data, 0, sent);
    long committed = await(first.suspend());
    assertThat(committed).isEqualTo(committedAfterSuspend(sent));
    assertThat(await(store.size(k))).isEmpty();

    BlobStore other = newStore();
    assertThat(await(other.queryUpload(spec))).isEqualTo(new UploadStatus(committed, false, true));
    Upload second = await(other.openUpload(spec));
    assertThat(second.committedSize()).isEqualTo(committed);
    append(second, data, (int) committed, data.length);
    assertThat(await(second.finish())).isEqualTo(data.length);
    assertThat(read(store, k, 0, 0)).isEqualTo(data);
    assertThat(await(newStore().queryUpload(spec)))
        .isEqualTo(new UploadStatus(data.length, true, true));
  }

  @Test
  void detachedUpload_keepsCommittedBytes_forANewStoreToResume() throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes(2 * part + 777, 6);
    BlobKey k = key();
    UploadSpec spec = verified(k, data);
    Upload first = await(store.openUpload(spec));
    int sent = (int) (2 * part + 100);
    append(first, data, 0, sent);
    first.detach();

    BlobStore other = newStore();
    Upload second = await(other.openUpload(spec));
    long committed = second.committedSize();
    assertThat(committed).isBetween(0L, (long) sent);
    assertThat(isCommitBoundary(committed)).as("committed %d", committed).isTrue();
    append(second, data, (int) committed, data.length);
    assertThat(await(second.finish())).isEqualTo(data.length);
    assertThat(read(other, k, 0, 0)).isEqualTo(data);
  }

  @Test
  void resumedUpload_withCorruptCommittedBytes_failsDigestMismatch_andPublishesNothing()
      throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes(part + part / 2, 7);
    byte[] corrupt = data.clone();
    corrupt[3] ^= 1;
    BlobKey k = key();
    UploadSpec spec = verified(k, data);
    Upload first = await(store.openUpload(spec));
    append(first, corrupt, 0, (int) part + 10);
    long committed = await(first.suspend());
    assertThat(committed).isPositive();

    BlobStore other = newStore();
    Upload second = await(other.openUpload(spec));
    assertThat(second.committedSize()).isEqualTo(committed);
    append(second, data, (int) committed, data.length);
    CompletableFuture<Long> finished = second.finish();
    assertThat(reasonOf(finished)).isEqualTo(StorageException.Reason.DIGEST_MISMATCH);
    assertThatThrownBy(() -> await(finished)).hasMessageContaining("(expected: sha256:");
    assertThat(await(store.size(k))).isEmpty();
    assertThat(await(newStore().queryUpload(spec)).known()).isFalse();
  }

  @Test
  void finishAtTheWrongSize_failsSizeMismatch_andPublishesNothing() throws Exception {
    byte[] data = bytes(10_000, 8);
    BlobKey k = key();
    Upload u = await(store.openUpload(verified(k, data)));
    append(u, data, 0, 9_999);
    assertThat(reasonOf(u.finish())).isEqualTo(StorageException.Reason.SIZE_MISMATCH);
    assertThat(await(store.size(k))).isEmpty();
  }

  @Test
  void uploadToAnExistingKey_isRefusedWithoutOverwrite_andReplacesWithIt() throws Exception {
    BlobKey k = key();
    await(store.put(k, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    assertThat(reasonOf(store.openUpload(unverified(k, false))))
        .isEqualTo(StorageException.Reason.ALREADY_EXISTS);

    Upload u = await(store.openUpload(unverified(k, true)));
    append(u, new byte[] {9, 8}, 0, 2);
    assertThat(await(u.finish())).isEqualTo(2);
    assertThat(await(store.get(k, Long.MAX_VALUE)).array()).isEqualTo(new byte[] {9, 8});
  }

  @Test
  void keyPublishedWhileUploading_isNotReplacedWithoutOverwrite() throws Exception {
    BlobKey k = key();
    Upload u = await(store.openUpload(unverified(k, false)));
    append(u, new byte[] {4, 5, 6}, 0, 3);
    await(store.put(k, ByteBuffer.wrap(new byte[] {1})));
    assertThat(reasonOf(u.finish())).isEqualTo(StorageException.Reason.ALREADY_EXISTS);
    assertThat(await(store.get(k, Long.MAX_VALUE)).array()).isEqualTo(new byte[] {1});
  }

  @Test
  void abortedUpload_isForgotten_andNothingIsPublished() throws Exception {
    long part = partSizeBytes();
    byte[] data = bytes(part + 5000, 9);
    BlobKey k = key();
    UploadSpec spec = verified(k, data);
    Upload first = await(store.openUpload(spec));
    append(first, data, 0, (int) part + 10);
    await(first.suspend());
    assertThat(await(store.queryUpload(spec)).known()).isTrue();

    Upload reopened = await(newStore().openUpload(spec));
    await(reopened.abort());
    assertThat(await(newStore().queryUpload(spec))).isEqualTo(UploadStatus.unknown());
    assertThat(await(store.size(k))).isEmpty();
    Upload fresh = await(store.openUpload(spec));
    assertThat(fresh.committedSize()).isZero();
    fresh.detach();
  }

  @Test
  void concurrentUploadsAndReads_stayWithinTheMemoryBudget() throws Exception {
    long part = partSizeBytes();
    budget = new MemoryBudget(3 * part + part / 2);
    BlobStore s = newStore();
    List<byte[]> blobs = new ArrayList<>();
    List<BlobKey> keys = new ArrayList<>();
    List<CompletableFuture<Long>> done = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      byte[] data = bytes(2 * part + 1000 * i, 20 + i);
      BlobKey k = key();
      blobs.add(data);
      keys.add(k);
      UploadSpec spec = verified(k, data);
      done.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  Upload u = await(s.openUpload(spec));
                  append(u, data, 0, data.length);
                  return await(u.finish());
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              }));
    }
    for (int i = 0; i < done.size(); i++) {
      assertThat(done.get(i).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(blobs.get(i).length);
    }
    for (int i = 0; i < keys.size(); i++) {
      assertThat(read(s, keys.get(i), 0, 0)).isEqualTo(blobs.get(i));
    }
    System.out.println(
        backendName() + ": memory budget peak " + budget.peakBytes() + " of "
            + budget.capacityBytes());
    assertThat(budget.peakBytes()).isLessThanOrEqualTo(budget.capacityBytes());
  }

  @Test
  void read_limitOverflowingPastTheOffset_readsToTheEnd() throws Exception {
    BlobKey k = key();
    byte[] data = bytes(2 * readSegmentBytes() + 17, 30);
    await(store.put(k, ByteBuffer.wrap(data)));

    assertThat(read(store, k, 1, Long.MAX_VALUE)).isEqualTo(Arrays.copyOfRange(data, 1, data.length));
    assertThat(read(store, k, data.length, Long.MAX_VALUE)).isEmpty();
  }

  @Test
  void blobReplacedDuringARead_readsAllOldBytes_orEndsWithConflict() throws Exception {
    BlobKey k = key();
    int segment = readSegmentBytes();
    // More segments than any store reads ahead, so the read asks for bytes after the replacement.
    byte[] old = bytes(8L * segment + 123, 31);
    byte[] replacement = bytes(old.length, 32);
    await(store.put(k, ByteBuffer.wrap(old)));

    ByteArrayOutputStream got = new ByteArrayOutputStream();
    StorageException failure = null;
    try (BlobReader r = await(store.openReader(k, 0, 0))) {
      ByteBuffer first = await(r.next());
      byte[] head = new byte[first.remaining()];
      first.get(head);
      got.write(head);
      // Another instance replaces the blob, as another replica would.
      await(newStore().put(k, ByteBuffer.wrap(replacement)));
      try {
        ByteBuffer chunk;
        while ((chunk = await(r.next())) != null) {
          byte[] b = new byte[chunk.remaining()];
          chunk.get(b);
          got.write(b);
        }
      } catch (java.util.concurrent.ExecutionException e) {
        failure = StorageException.from(e);
      }
    }

    byte[] read = got.toByteArray();
    if (failure == null) {
      assertThat(read).as("a read that ends well has the old bytes only").isEqualTo(old);
    } else {
      assertThat(failure.reason()).isEqualTo(StorageException.Reason.CONFLICT);
      assertThat(failure.getMessage()).contains("replaced while it was being read");
      assertThat(read).as("bytes read before the conflict").isEqualTo(Arrays.copyOf(old, read.length));
    }
    System.out.println(
        backendName() + ": blob replaced during a read: "
            + (failure == null ? "all old bytes" : "CONFLICT after " + read.length + " bytes"));
    assertThat(read(store, k, 0, 0)).isEqualTo(replacement);
  }
}
