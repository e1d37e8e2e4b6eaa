package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.append;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.await;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * A writer that starts an object upload over (discards what another writer committed) never
 * disturbs a live writer, and is not blocked forever by a dead one: the holder's lease.
 */
class S3UploadLeaseTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;
  private static final Duration SHORT_LEASE = Duration.ofSeconds(2);

  private static S3MockFixture s3;

  private S3BlobStore holderStore;
  private S3BlobStore newcomerStore;
  private S3BlobStore reader;

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
    String prefix = "lease-" + UUID.randomUUID();
    holderStore = store(prefix, Duration.ofMinutes(2));
    newcomerStore = store(prefix, Duration.ofMinutes(2));
    reader = store(prefix, Duration.ofMinutes(2));
  }

  @AfterEach
  void closeStores() {
    holderStore.close();
    newcomerStore.close();
    reader.close();
  }

  private static S3BlobStore store(String prefix, Duration lease, ExecutionInterceptor... seen) {
    return S3BlobStore.create(
        s3.storeConfig()
            .keyPrefix(prefix)
            .partSizeBytes(PART)
            .uploadLease(lease)
            .interceptors(List.of(seen))
            .build(),
        new MemoryBudget(64L << 20));
  }

  /**
   * Counts the writes of one upload record that S3 made on the condition of its ETag: takeovers,
   * here.
   */
  private static final class ConditionalRecordWrites implements ExecutionInterceptor {
    private final AtomicInteger succeeded = new AtomicInteger();
    private volatile String recordKey;

    void watch(String recordKey) {
      this.recordKey = recordKey;
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attrs) {
      if (context.request() instanceof PutObjectRequest put
          && put.ifMatch() != null
          && put.key().equals(recordKey)) {
        succeeded.incrementAndGet();
      }
    }

    int succeeded() {
      return succeeded.get();
    }
  }

  @Test
  void restartAtZero_whileTheHolderIsAlive_isRefused_andTheHolderFinishesWithItsBytes()
      throws Exception {
    byte[] holders = bytes(3 * PART + 500, 21);
    UploadSpec spec = object();
    Upload holder = await(holderStore.openUpload(spec));
    append(holder, holders, 0, 2 * PART);
    recordWithParts(spec, 2);

    Upload restarter = await(newcomerStore.openUpload(spec));
    assertThat(restarter.committedSize()).isEqualTo(2 * PART);
    StorageException e = StorageException.from(failureOf(restarter.abort()));
    assertThat(e.reason()).isEqualTo(Reason.CONFLICT);
    assertThat(e.getMessage())
        .contains("another writer holds the upload of " + spec.key())
        .containsPattern("retry after \\d+ s");

    append(holder, holders, 2 * PART, holders.length);
    assertThat(await(holder.finish())).isEqualTo(holders.length);
    assertThat(await(reader.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(holders);
  }

  @Test
  void restartAtZero_afterTheHolderDiedAndItsLeaseEnded_takesTheUploadOver() throws Exception {
    String prefix = "lease-" + UUID.randomUUID();
    S3BlobStore dying = store(prefix, SHORT_LEASE);
    try (S3BlobStore newcomer = store(prefix, SHORT_LEASE)) {
      byte[] dead = bytes(3 * PART, 23);
      byte[] fresh = bytes(2 * PART + 900, 24);
      UploadSpec spec = object();
      Upload holder = await(dying.openUpload(spec));
      append(holder, dead, 0, 2 * PART);
      recordWithParts(dying, spec, 2);
      // The holder's replica dies: it sends and records nothing more, and never lets go.
      dying.close();
      // S3 times its objects in whole seconds: wait out the lease with a second to spare.
      Thread.sleep(SHORT_LEASE.toMillis() + 1500);

      Upload restarter = await(newcomer.openUpload(spec));
      assertThat(restarter.committedSize()).isEqualTo(2 * PART);
      await(restarter.abort());
      Upload again = await(newcomer.openUpload(spec));
      assertThat(again.committedSize()).isZero();
      append(again, fresh, 0, fresh.length);
      assertThat(await(again.finish())).isEqualTo(fresh.length);
      assertThat(await(newcomer.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(fresh);
    }
  }

  @Test
  void restartAtZero_afterTheHoldersStreamEnded_takesTheUploadOverAtOnce() throws Exception {
    byte[] first = bytes(2 * PART + 100, 26);
    byte[] second = bytes(PART + 300, 27);
    UploadSpec spec = object();
    Upload holder = await(holderStore.openUpload(spec));
    append(holder, first, 0, 2 * PART);
    recordWithParts(spec, 2);
    // The holder's stream is cut: it lets go of the upload.
    holder.detach();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!readQuietly(holderStore, spec).map(r -> r.record().writer().isEmpty()).orElse(false)) {
      assertThat(System.nanoTime()).as("record let go").isLessThan(deadline);
      Thread.sleep(20);
    }

    Upload restarter = await(newcomerStore.openUpload(spec));
    assertThat(restarter.committedSize()).isEqualTo(2 * PART);
    await(restarter.abort());
    Upload again = await(newcomerStore.openUpload(spec));
    assertThat(again.committedSize()).isZero();
    append(again, second, 0, second.length);
    assertThat(await(again.finish())).isEqualTo(second.length);
    assertThat(await(reader.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(second);
  }

  @Test
  void twoNewcomersAfterTheLease_onlyOneTakesTheUploadOver() throws Exception {
    String prefix = "lease-" + UUID.randomUUID();
    S3BlobStore dying = store(prefix, SHORT_LEASE);
    ConditionalRecordWrites takeovers = new ConditionalRecordWrites();
    try (S3BlobStore first = store(prefix, SHORT_LEASE, takeovers);
        S3BlobStore second = store(prefix, SHORT_LEASE, takeovers)) {
      UploadSpec spec = object();
      takeovers.watch(first.keys().record(spec));
      Upload holder = await(dying.openUpload(spec));
      append(holder, bytes(2 * PART, 25), 0, 2 * PART);
      recordWithParts(dying, spec, 2);
      dying.close();
      Thread.sleep(SHORT_LEASE.toMillis() + 1500);

      Upload a = await(first.openUpload(spec));
      Upload b = await(second.openUpload(spec));
      CompletableFuture<Void> abortA = a.abort();
      CompletableFuture<Void> abortB = b.abort();
      int finished = 0;
      for (CompletableFuture<Void> f : List.of(abortA, abortB)) {
        try {
          f.get(60, TimeUnit.SECONDS);
          finished++;
        } catch (Exception e) {
          StorageException lost = StorageException.from(e);
          assertThat(lost.reason()).isEqualTo(Reason.CONFLICT);
          assertThat(lost.getMessage()).contains("another writer holds the upload");
        }
      }
      // When both read the record before either replaced it, the one whose write comes second is
      // refused; when one had already discarded the upload, the other finds nothing held and
      // finishes too. Either way exactly one of them took the record over.
      assertThat(takeovers.succeeded()).as("records taken over").isEqualTo(1);
      assertThat(finished).isPositive();
      assertThat(readQuietly(first, spec)).as("the record, once discarded").isEmpty();
    }
  }

  private void recordWithParts(UploadSpec spec, int parts) throws Exception {
    recordWithParts(holderStore, spec, parts);
  }

  private static void recordWithParts(S3BlobStore store, UploadSpec spec, int parts)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Optional<StoredRecord> r = readQuietly(store, spec);
      if (r.isPresent() && r.get().record().etags().size() >= parts) {
        return;
      }
      assertThat(System.nanoTime()).as("record with " + parts + " parts").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  /** The record of {@code spec}; empty while there is none, or while it is being rewritten. */
  private static Optional<StoredRecord> readQuietly(S3BlobStore store, UploadSpec spec)
      throws Exception {
    try {
      return await(store.records().read(spec));
    } catch (java.util.concurrent.ExecutionException e) {
      // S3Mock rewrites an object in place: a read during a write can see half of it.
      assertThat(StorageException.from(e).reason()).isEqualTo(Reason.INTERNAL);
      return Optional.empty();
    }
  }

  private static UploadSpec object() {
    return new UploadSpec(
        BlobKey.of("files/" + UUID.randomUUID()), "object", -1, Optional.empty(), true);
  }
}
