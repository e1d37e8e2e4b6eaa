package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * S3 goes dark (connections taken, nothing answered) while single-message CAS writes, plain-object
 * writes and a multipart write run beside each other, then comes back cutting every connection it
 * held: every write either fails with a reason a client retries or stores exactly its own bytes.
 */
class S3BlackHoleTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;
  private static final Set<Reason> RETRYABLE =
      EnumSet.of(Reason.UNAVAILABLE, Reason.CONFLICT, Reason.CANCELLED);

  private static S3MockFixture s3;
  private static BlackHoleProxy proxy;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3MockFixture.start();
    proxy = new BlackHoleProxy(s3.endpoint());
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  /** One write and what came of it. */
  private record Outcome(BlobKey key, byte[] content, Throwable failure) {}

  @Test
  void writesDuringABlackHole_failRetryablyOrStoreExactlyTheirBytes() throws Exception {
    String prefix = "dark-" + UUID.randomUUID();
    ExecutorService writers = Executors.newFixedThreadPool(24);
    try (S3BlobStore store =
            S3BlobStore.create(
                s3.storeConfig().endpointOverride(proxy.endpoint()).keyPrefix(prefix)
                    .partSizeBytes(PART).maxPartsInFlight(2).maxConcurrency(8)
                    .requestTimeout(Duration.ofSeconds(4)).build(),
                new MemoryBudget(3 * PART));
        S3BlobStore direct =
            S3BlobStore.create(s3.storeConfig().keyPrefix(prefix).build(), new MemoryBudget(64L << 20))) {
      List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
      // Round 0 starts in the light and goes dark for longer than a request may take (its
      // requests time out); round 1 starts in the dark; light comes back, cutting what was held
      // (the SDK retries it); round 2 starts in the light.
      for (int round = 0; round < 3; round++) {
        if (round == 2) {
          proxy.comeBack();
        }
        for (int i = 0; i < 12; i++) {
          byte[] b = bytes(1000, round * 100 + i);
          outcomes.add(CompletableFuture.supplyAsync(() -> write(store, verified(b), b), writers));
        }
        for (int i = 0; i < 6; i++) {
          byte[] b = bytes(3000 + i, round * 100 + 50 + i);
          UploadSpec spec =
              new UploadSpec(BlobKey.of("ac/" + UUID.randomUUID()), "object", -1, Optional.empty(), true);
          outcomes.add(CompletableFuture.supplyAsync(() -> write(store, spec, b), writers));
        }
        if (round == 0) {
          byte[] big = bytes(2 * PART + 1000, 7);
          outcomes.add(CompletableFuture.supplyAsync(() -> write(store, verified(big), big), writers));
          Thread.sleep(100);
          proxy.goDark();
        }
        Thread.sleep(round == 0 ? 3000 : 2000);
      }

      int stored = 0;
      java.util.Map<Reason, Integer> failures = new java.util.TreeMap<>();
      for (CompletableFuture<Outcome> f : outcomes) {
        Outcome o = f.get(120, TimeUnit.SECONDS);
        if (o.failure() != null) {
          StorageException e = StorageException.from(o.failure());
          assertThat(e.reason()).as("failure of a write to " + o.key() + ": " + e.getMessage())
              .isIn(RETRYABLE);
          failures.merge(e.reason(), 1, Integer::sum);
        } else {
          stored++;
        }
        OptionalLong size = direct.size(o.key()).get(60, TimeUnit.SECONDS);
        if (o.failure() == null || size.isPresent()) {
          byte[] held = direct.get(o.key(), Integer.MAX_VALUE).get(60, TimeUnit.SECONDS).array();
          assertThat(sha256(held)).as("bytes under " + o.key()).isEqualTo(sha256(o.content()));
        }
      }
      System.out.println(
          "black hole: " + stored + " of " + outcomes.size() + " writes stored; failures: " + failures);
      // The writes begun once the light was back must not all fail.
      assertThat(stored).isGreaterThan(0);
    } finally {
      writers.shutdownNow();
    }
  }

  private static Outcome write(S3BlobStore store, UploadSpec spec, byte[] content) {
    try {
      Upload u = store.openUpload(spec).get(60, TimeUnit.SECONDS);
      for (int i = (int) u.committedSize(); i < content.length; i += 1 << 20) {
        u.append(ByteBuffer.wrap(content, i, Math.min(1 << 20, content.length - i)))
            .get(60, TimeUnit.SECONDS);
      }
      u.finish().get(60, TimeUnit.SECONDS);
      return new Outcome(spec.key(), content, null);
    } catch (Exception e) {
      return new Outcome(spec.key(), content, e);
    }
  }

  private static UploadSpec verified(byte[] content) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
      return new UploadSpec(
          BlobKey.of("cas/" + sha256(content)), "u-" + UUID.randomUUID(), content.length,
          Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), true);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
