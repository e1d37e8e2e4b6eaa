package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * An upload's parts are hashed on the store's hash threads, beside their UploadParts: here one
 * hash thread that takes nothing until the test opens it, so what waits for hashing shows.
 */
class S3UploadHashingTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

  private final CountDownLatch gate = new CountDownLatch(1);
  private final ExecutorService hashThread = Executors.newSingleThreadExecutor();
  private final UploadPartsDone partsDone = new UploadPartsDone();
  private final MemoryBudget budget = new MemoryBudget(64L << 20);
  private S3BlobStore store;
  private S3BlobStore other;

  /** Counts the UploadPart calls S3 has answered. */
  static final class UploadPartsDone implements ExecutionInterceptor {
    final AtomicInteger count = new AtomicInteger();

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attrs) {
      if ("UploadPart".equals(attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME))) {
        count.incrementAndGet();
      }
    }
  }

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
    hashThread.execute(
        () -> {
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    String prefix = "hashing-" + UUID.randomUUID();
    store =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(4)
                .interceptors(List.of(partsDone)).build(),
            budget,
            new HashThreads(hashThread));
    other =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).build(),
            new MemoryBudget(64L << 20));
  }

  @AfterEach
  void closeStores() {
    gate.countDown();
    store.close();
    other.close();
  }

  @Test
  void fullParts_goToS3BesideTheirHashing_andCountAsCommittedOnceHashed() throws Exception {
    byte[] data = bytes(3 * PART + 1000, 11);
    UploadSpec spec = verified(data);
    Upload u = twoPartsSentNoneHashed(spec, data);

    // Both parts are in S3, but neither is hashed: nothing counts yet, and their bytes stay
    // reserved beside the third part's buffer.
    assertThat(await(other.queryUpload(spec)).committedSize()).isZero();
    assertThat(budget.usedBytes()).isEqualTo(3 * PART);

    CompletableFuture<Long> suspended = u.suspend();
    Thread.sleep(300);
    assertThat(suspended).as("suspend waits for the parts' hashes").isNotDone();
    gate.countDown();
    assertThat(await(suspended)).isEqualTo(2 * PART);
    eventually("bytes reserved", budget::usedBytes, 0);

    assertThat(await(other.queryUpload(spec))).isEqualTo(new UploadStatus(2 * PART, false, true));
    Upload second = await(other.openUpload(spec));
    assertThat(second.committedSize()).isEqualTo(2 * PART);
    append(second, data, 2 * PART, data.length);
    assertThat(await(second.finish())).isEqualTo(data.length);
    assertThat(await(other.get(spec.key(), Long.MAX_VALUE)).array()).isEqualTo(data);
  }

  @Test
  void detachedUpload_recordsNothingOnceItsHashesMayRun() throws Exception {
    byte[] data = bytes(2 * PART + 500, 12);
    UploadSpec spec = verified(data);
    Upload u = twoPartsSentNoneHashed(spec, data);

    u.detach();
    gate.countDown();
    hashThread.submit(() -> {}).get(60, TimeUnit.SECONDS);
    eventually("bytes reserved", budget::usedBytes, 0);
    // A successor may have the upload by now: the detached writer wrote no record after it let go.
    assertThat(await(other.queryUpload(spec)).committedSize()).isZero();

    Upload second = await(other.openUpload(spec));
    assertThat(second.committedSize()).isZero();
    append(second, data, 0, data.length);
    assertThat(await(second.finish())).isEqualTo(data.length);
    assertThat(await(other.get(spec.key(), Long.MAX_VALUE)).array()).isEqualTo(data);
  }

  @Test
  void blobOfOnePart_isHashedWhenFinished_andRefusedWhenItsDigestIsWrong() throws Exception {
    gate.countDown();
    byte[] data = bytes(PART / 2, 13);
    byte[] corrupt = data.clone();
    corrupt[data.length - 1] ^= 1;
    UploadSpec spec = verified(data);
    Upload u = await(store.openUpload(spec));
    append(u, corrupt, 0, corrupt.length);
    assertThat(reasonOf(u.finish())).isEqualTo(StorageException.Reason.DIGEST_MISMATCH);
    assertThat(await(other.size(spec.key()))).isEmpty();

    Upload again = await(store.openUpload(spec));
    append(again, data, 0, data.length);
    assertThat(await(again.finish())).isEqualTo(data.length);
    assertThat(await(other.get(spec.key(), Long.MAX_VALUE)).array()).isEqualTo(data);
  }

  /** Opens {@code spec} and writes two parts and 100 bytes; returns once S3 has both parts. */
  private Upload twoPartsSentNoneHashed(UploadSpec spec, byte[] data) throws Exception {
    Upload u = await(store.openUpload(spec));
    append(u, data, 0, 2 * PART + 100);
    eventually("UploadParts answered", () -> partsDone.count.get(), 2);
    return u;
  }

  private static UploadSpec verified(byte[] content) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
    return new UploadSpec(
        BlobKey.of("hashing/" + UUID.randomUUID()), "u-" + UUID.randomUUID(), content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), false);
  }

  private static byte[] bytes(long n, int seed) {
    byte[] b = new byte[(int) n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void append(Upload u, byte[] data, long from, long to) throws Exception {
    for (long i = from; i < to; i += 256 * 1024) {
      await(u.append(ByteBuffer.wrap(data, (int) i, (int) Math.min(256 * 1024, to - i))));
    }
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static StorageException.Reason reasonOf(CompletableFuture<?> f) {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return StorageException.from(e).reason();
    }
    throw new AssertionError("expected a failure");
  }

  private static void eventually(String what, LongSupplier value, long expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (value.getAsLong() != expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(value.getAsLong()).as(what).isEqualTo(expected);
  }
}
