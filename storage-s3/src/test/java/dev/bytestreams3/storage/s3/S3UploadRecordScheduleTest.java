package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
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

/**
 * When an upload writes its record: at the first part, then every few parts or seconds, and when
 * the writer suspends; and that a successor resumes after the parts the last record names.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3UploadRecordScheduleTest {

  private static final int PART = (int) S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

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

  /** Every request sent: its operation and S3 key. */
  static final class Requests implements ExecutionInterceptor {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attrs) {
      lines.add(
          attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME) + " "
              + context.request().getValueForField("Key", String.class).orElse(""));
    }

    final List<String> done = new CopyOnWriteArrayList<>();

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attrs) {
      done.add(
          attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME) + " "
              + context.request().getValueForField("Key", String.class).orElse(""));
    }

    /**
     * Waits until S3 has answered {@code n} record writes. (Reading the record while it is
     * rewritten is left alone: S3Mock can answer such a read with a partly written object.)
     */
    void awaitRecordWrites(int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (done.stream().filter(l -> l.startsWith("PutObject ") && onRecord(l)).count() < n) {
        assertThat(System.nanoTime()).as(n + " record writes within 30 s").isLessThan(deadline);
        Thread.sleep(20);
      }
    }

    /** Requests of {@code operation} on an upload record. */
    long onRecords(String operation) {
      return lines.stream().filter(l -> l.startsWith(operation + " ") && onRecord(l)).count();
    }

    /** Whether a request is on an upload record, not the store's start-up probe beside them. */
    private static boolean onRecord(String line) {
      return line.contains("/.uploads/") && !line.contains("/.uploads/probe-");
    }

    long count(String operation) {
      return lines.stream().filter(l -> l.startsWith(operation + " ")).count();
    }
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
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

  private static UploadSpec spec(BlobKey key, String uploadId, byte[] data) throws Exception {
    byte[] hash = MessageDigest.getInstance("SHA-256").digest(data);
    return new UploadSpec(
        key, uploadId, data.length, Optional.of(new ContentCheck(Sha256.FUNCTION, hash)), true);
  }

  private static S3BlobStore store(String prefix, Requests requests, int everyParts, Duration every) {
    return S3BlobStore.create(
        s3.storeConfig()
            .keyPrefix(prefix)
            .partSizeBytes(PART)
            .maxPartsInFlight(2)
            .recordEveryParts(everyParts)
            .recordEvery(every)
            .interceptors(List.of(requests))
            .build(),
        new MemoryBudget(64L << 20));
  }

  @Test
  void multipartUpload_recordsAtItsFirstPartThenEveryNParts_andDeletesTheRecordOnce()
      throws Exception {
    byte[] data = bytes(10 * PART + 1000, 1);
    BlobKey key = BlobKey.of("cas/sha256/every-four");
    Requests requests = new Requests();
    try (S3BlobStore store = store("schedule-" + UUID.randomUUID(), requests, 4, Duration.ofHours(1))) {
      await(store.records().conditions());
      requests.lines.clear();
      Upload u = await(store.openUpload(spec(key, "u1", data)));
      append(u, data, 0, data.length);
      assertThat(await(u.finish())).isEqualTo(data.length);

      System.out.println("10 parts and a tail, a record every 4 parts: " + requests.lines.size()
          + " requests " + requests.lines);
      // Records at parts 1, 5 and 9 of 10: three instead of ten.
      assertThat(requests.onRecords("PutObject")).isEqualTo(3);
      assertThat(requests.onRecords("DeleteObject")).isEqualTo(1);
      assertThat(requests.count("UploadPart")).isEqualTo(11);
      assertThat(requests.count("CompleteMultipartUpload")).isEqualTo(1);
      assertThat(await(store.get(key, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void recordEveryZeroSeconds_recordsEveryPart() throws Exception {
    byte[] data = bytes(4 * PART, 2);
    BlobKey key = BlobKey.of("cas/sha256/every-part");
    Requests requests = new Requests();
    try (S3BlobStore store = store("schedule-" + UUID.randomUUID(), requests, 16, Duration.ZERO)) {
      await(store.records().conditions());
      requests.lines.clear();
      Upload u = await(store.openUpload(spec(key, "u2", data)));
      append(u, data, 0, data.length);
      assertThat(await(u.finish())).isEqualTo(data.length);
      // A write as each part is ready; parts ready together share one.
      assertThat(requests.onRecords("PutObject")).isBetween(2L, 4L);
      assertThat(await(store.get(key, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void partsWaitingForTheRecord_areRecordedWhenTheTimeIsUp_evenWithNoPartAfterThem()
      throws Exception {
    byte[] data = bytes(3 * PART + 77, 5);
    BlobKey key = BlobKey.of("cas/sha256/timer");
    String prefix = "schedule-" + UUID.randomUUID();
    Requests requests = new Requests();
    try (S3BlobStore first = store(prefix, requests, 100, Duration.ofSeconds(1));
        S3BlobStore second = store(prefix, new Requests(), 100, Duration.ofSeconds(1))) {
      Upload u = await(first.openUpload(spec(key, "u5", data)));
      // Three parts, then the client pauses: the record names part 1 at once, the rest once a
      // second has passed since.
      append(u, data, 0, 3 * PART);
      // Asked between record writes: S3Mock can answer a read of an object being rewritten with
      // part of it.
      int writes = 2;
      requests.awaitRecordWrites(writes);
      while (await(second.queryUpload(spec(key, "u5", data))).committedSize() < 3L * PART) {
        assertThat(writes).as("record writes before it names three parts").isLessThan(3);
        requests.awaitRecordWrites(++writes);
      }
      assertThat(requests.onRecords("PutObject")).isEqualTo(writes);
      append(u, data, 3 * PART, data.length);
      assertThat(await(u.finish())).isEqualTo(data.length);
      assertThat(await(second.get(key, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void suspendedWriter_recordsEveryPartS3Holds_soTheClientResumesAfterAllOfThem()
      throws Exception {
    byte[] data = bytes(7 * PART + 123, 3);
    BlobKey key = BlobKey.of("cas/sha256/suspended");
    String prefix = "schedule-" + UUID.randomUUID();
    Requests requests = new Requests();
    try (S3BlobStore first = store(prefix, requests, 4, Duration.ofHours(1));
        S3BlobStore second = store(prefix, new Requests(), 4, Duration.ofHours(1))) {
      Upload u = await(first.openUpload(spec(key, "u3", data)));
      append(u, data, 0, 6 * PART + 500);
      // Six parts in S3; the schedule alone would have recorded parts 1 and 5 only.
      assertThat(await(u.suspend())).isEqualTo(6L * PART);
      assertThat(await(second.queryUpload(spec(key, "u3", data))).committedSize())
          .isEqualTo(6L * PART);

      Upload resumed = await(second.openUpload(spec(key, "u3", data)));
      assertThat(resumed.committedSize()).isEqualTo(6L * PART);
      append(resumed, data, 6 * PART, data.length);
      assertThat(await(resumed.finish())).isEqualTo(data.length);
      assertThat(await(second.get(key, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }

  @Test
  void writerGone_successorResumesAfterTheLastRecord_andSendsTheLaterPartsAgain()
      throws Exception {
    byte[] data = bytes(7 * PART + 321, 4);
    BlobKey key = BlobKey.of("cas/sha256/gone");
    String prefix = "schedule-" + UUID.randomUUID();
    Requests requests = new Requests();
    try (S3BlobStore first = store(prefix, requests, 4, Duration.ofHours(1));
        S3BlobStore second = store(prefix, new Requests(), 4, Duration.ofHours(1))) {
      Upload u = await(first.openUpload(spec(key, "u4", data)));
      append(u, data, 0, 6 * PART + 500);
      // The record written at part 5 (the one after part 1) is what a successor can see; it names
      // part 6 too only when that part was ready before the write started.
      requests.awaitRecordWrites(2);
      // A stream that ends unfinished lets go of the upload: one more record write, naming the
      // parts ready by then and no writer, so that a successor need not wait out a lease.
      u.detach();
      requests.awaitRecordWrites(3);
      long committed = await(second.queryUpload(spec(key, "u4", data))).committedSize();
      assertThat(committed).isBetween(5L * PART, 6L * PART);
      assertThat(committed % PART).isZero();
      assertThat(requests.onRecords("PutObject")).isEqualTo(3);

      Upload resumed = await(second.openUpload(spec(key, "u4", data)));
      assertThat(resumed.committedSize()).isEqualTo(committed);
      append(resumed, data, (int) committed, data.length);
      assertThat(await(resumed.finish())).isEqualTo(data.length);
      assertThat(await(second.get(key, Long.MAX_VALUE)).array()).isEqualTo(data);
    }
  }
}
