package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The refresh against S3Mock: a copy in place gives an object a new LastModified and keeps its
 * bytes, once per threshold; an object used every "day" outlives an expiry rule that removes the
 * one nobody uses. A day here is one real second, since S3Mock dates objects by its own clock.
 */
class S3RefresherTest {

  private static S3MockFixture s3;
  private static S3Client admin;

  @BeforeAll
  static void start() {
    s3 = S3MockFixture.start();
    admin =
        S3Client.builder()
            .endpointOverride(s3.endpoint())
            .region(Region.of(S3MockFixture.REGION))
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(S3MockFixture.ACCESS_KEY, S3MockFixture.SECRET_KEY)))
            .build();
  }

  @AfterAll
  static void stop() {
    if (admin != null) {
      admin.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static Instant lastModified(String objectKey) {
    return admin.headObject(r -> r.bucket(s3.bucket()).key(objectKey)).lastModified();
  }

  @Test
  void touch_oldObject_copiedInPlaceOncePerThreshold_bytesKept() throws Exception {
    S3BlobStoreTest.Recorder requests = new S3BlobStoreTest.Recorder();
    String prefix = "refresh-" + UUID.randomUUID() + "/";
    try (S3BlobStore store =
        S3BlobStore.create(
            s3.storeConfig()
                .keyPrefix(prefix)
                .refreshThreshold(Duration.ofSeconds(1))
                .interceptors(List.of(requests))
                .build(),
            new MemoryBudget(64 << 20))) {
      BlobKey key = BlobKey.of("cas/sha256/aa");
      await(store.put(key, ByteBuffer.wrap("kept bytes".getBytes(StandardCharsets.UTF_8))));
      Instant before = lastModified(prefix + key.value());
      Thread.sleep(2100);

      await(store.touch(key));
      Instant after = lastModified(prefix + key.value());
      await(store.touch(key));
      await(store.touch(key));

      System.out.println(
          "S3Mock CopyObject in place (REPLACE): LastModified " + before + " -> " + after
              + "; requests: " + requests.lines);
      assertThat(after).isAfter(before.plusSeconds(1));
      assertThat(StandardCharsets.UTF_8.decode(await(store.get(key, Integer.MAX_VALUE))).toString())
          .isEqualTo("kept bytes");
      assertThat(requests.count("HeadObject")).isEqualTo(1);
      assertThat(requests.count("CopyObject")).isEqualTo(1);
      assertThat(store.lifecycle().refreshedObjects()).isEqualTo(1);
      assertThat(store.lifecycle().refreshedBytes()).isEqualTo(10);
    }
  }

  @Test
  void touch_youngObject_onlyLooks_thenRemembersUntilThreshold() throws Exception {
    S3BlobStoreTest.Recorder requests = new S3BlobStoreTest.Recorder();
    String prefix = "young-" + UUID.randomUUID() + "/";
    try (S3BlobStore store =
        S3BlobStore.create(
            s3.storeConfig()
                .keyPrefix(prefix)
                .refreshThreshold(Duration.ofHours(1))
                .interceptors(List.of(requests))
                .build(),
            new MemoryBudget(64 << 20))) {
      BlobKey key = BlobKey.of("cas/sha256/bb");
      await(store.put(key, ByteBuffer.wrap(new byte[] {1, 2, 3})));
      for (int i = 0; i < 5; i++) {
        await(store.touch(key));
      }
      assertThat(requests.count("HeadObject")).isEqualTo(1);
      assertThat(requests.count("CopyObject")).isZero();
      assertThat(store.lifecycle().refreshedObjects()).isZero();
    }
  }

  @Test
  void touch_missingObject_isNotFound() throws Exception {
    try (S3BlobStore store =
        S3BlobStore.create(
            s3.storeConfig()
                .keyPrefix("gone-" + UUID.randomUUID() + "/")
                .refreshThreshold(Duration.ofHours(1))
                .build(),
            new MemoryBudget(64 << 20))) {
      assertThatThrownBy(() -> await(store.touch(BlobKey.of("cas/sha256/cc"))))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              StorageException.class,
              e -> assertThat(e.reason()).isEqualTo(StorageException.Reason.NOT_FOUND));
    }
  }

  @Test
  void blobUsedEveryDay_survivesExpiryRule_unusedBlobExpires() throws Exception {
    Duration day = Duration.ofSeconds(1);
    // A blob touched once a day reaches the threshold plus a day, plus a second that dates
    // rounded to the second may add, before its copy: the age must leave room for that.
    Duration expiryAge = day.multipliedBy(5);
    String prefix = "days-" + UUID.randomUUID() + "/";
    try (S3BlobStore store =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).refreshThreshold(day.multipliedBy(2)).build(),
            new MemoryBudget(64 << 20))) {
      BlobKey used = BlobKey.of("cas/sha256/used");
      BlobKey unused = BlobKey.of("cas/sha256/unused");
      await(store.put(used, ByteBuffer.wrap(new byte[] {1})));
      await(store.put(unused, ByteBuffer.wrap(new byte[] {2})));
      long start = System.nanoTime();
      for (int d = 0; d < 10; d++) {
        Thread.sleep(day.toMillis());
        expire(prefix, expiryAge);
        await(store.touch(used));
      }
      assertThat(await(store.size(used))).hasValue(1);
      assertThat(await(store.size(unused))).isEmpty();
      // Once per threshold at most: the slower this machine ran the days, the more thresholds.
      long thresholds = Duration.ofNanos(System.nanoTime() - start).dividedBy(day.multipliedBy(2));
      assertThat(store.lifecycle().refreshedObjects()).isBetween(2L, thresholds + 1);
    }
  }

  /**
   * The bucket's expiry rule: removes every object under {@code prefix} older than the age. The
   * date is the one HEAD reports: S3Mock's listing keeps an object's first date after a copy in
   * place, where S3 (and its expiry rule) use the copy's.
   */
  private static void expire(String prefix, Duration age) {
    Instant cutoff = Instant.now().minus(age);
    for (S3Object o :
        admin.listObjectsV2(r -> r.bucket(s3.bucket()).prefix(prefix)).contents()) {
      Instant date;
      try {
        date = lastModified(o.key());
      } catch (NoSuchKeyException e) {
        // Listed, then gone for a HEAD: on a loaded machine S3Mock answered 404 for an object
        // that a touch's copy in place was replacing beside this sweep. Not old, so not ours.
        continue;
      }
      if (date.isBefore(cutoff)) {
        admin.deleteObject(r -> r.bucket(s3.bucket()).key(o.key()));
      }
    }
  }
}
