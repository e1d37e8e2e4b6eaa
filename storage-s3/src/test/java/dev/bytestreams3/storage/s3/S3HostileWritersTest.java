package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many writers on one upload name, on two stores sharing one bucket (replicas), some sending bytes
 * that do not hash to the digest, while UploadParts, record writes and Completes fail or are
 * delayed at random (seeded) and writers cancel, suspend or abort at random points. After every
 * round the CAS key either does not exist or holds exactly the bytes its digest names; at the end
 * an honest writer finishes.
 */
class S3HostileWritersTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;
  private static final int ROUNDS = 8;
  private static final int WRITERS = 4;

  private static S3MockFixture s3;

  @BeforeAll
  static void start() {
    s3 = S3MockFixture.start();
  }

  @AfterAll
  static void stop() {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void hostileAndUnluckyWriters_neverPublishBytesTheDigestDoesNotName() throws Exception {
    hostileRounds(s3::storeConfig, s3.bucket());
  }

  /** The rounds against the server {@code server} configures, whose bucket is {@code bucket}. */
  static void hostileRounds(Supplier<S3StoreConfig.Builder> server, String bucket)
      throws Exception {
    long seed = 20261206L;
    Random random = new Random(seed);
    String prefix = "hostile-" + UUID.randomUUID();
    S3Faults faultsA = new S3Faults();
    S3Faults faultsB = new S3Faults();
    Set<String> ops = Set.of("UploadPart", "PutObject", "CompleteMultipartUpload");
    ExecutorService threads = Executors.newFixedThreadPool(WRITERS);
    try (S3BlobStore a = store(server.get(), prefix, faultsA);
        S3BlobStore b = store(server.get(), prefix, faultsB);
        S3BlobStore direct =
            S3BlobStore.create(server.get().keyPrefix(prefix).build(), new MemoryBudget(64L << 20))) {
      // Conditions are probed before the faults begin.
      a.records().conditions().get(60, TimeUnit.SECONDS);
      b.records().conditions().get(60, TimeUnit.SECONDS);
      faultsA.chaos(seed, 0.15, 30, ops);
      faultsB.chaos(seed + 1, 0.15, 30, ops);

      byte[] honest = bytes(3 * PART + 1234, 1);
      List<byte[]> contents = new ArrayList<>();
      contents.add(honest);
      for (int k = 0; k < 3; k++) {
        // Same length, one part different: what a hostile client would send.
        byte[] hostile = honest.clone();
        for (int i = 0; i < PART; i += 8192) {
          hostile[(int) (k * PART) + i] ^= (byte) (k + 1);
        }
        contents.add(hostile);
      }
      UploadSpec spec = verified(honest, "shared");
      int published = 0;
      for (int round = 0; round < ROUNDS; round++) {
        List<CompletableFuture<Void>> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
          S3BlobStore store = random.nextBoolean() ? a : b;
          // Half the writers are honest, and half of them mean to finish.
          byte[] content =
              random.nextBoolean() ? honest : contents.get(1 + random.nextInt(contents.size() - 1));
          Ending ending =
              random.nextBoolean()
                  ? Ending.FINISH
                  : Ending.values()[1 + random.nextInt(Ending.values().length - 1)];
          long stopAt = (long) (random.nextDouble() * content.length);
          writers.add(CompletableFuture.runAsync(() -> write(store, spec, content, ending, stopAt), threads));
        }
        CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(150, TimeUnit.SECONDS);
        OptionalLong size = direct.size(spec.key()).get(60, TimeUnit.SECONDS);
        if (size.isPresent()) {
          published++;
          byte[] held = direct.get(spec.key(), Integer.MAX_VALUE).get(60, TimeUnit.SECONDS).array();
          assertThat(sha256(held)).as("round " + round + ": bytes under the CAS key")
              .isEqualTo(sha256(honest));
          // Start the next round from nothing, so every round can publish.
          direct.client()
              .deleteObject(r -> r.bucket(bucket).key(direct.keys().object(spec.key())))
              .get(60, TimeUnit.SECONDS);
        }
      }
      System.out.println(
          "hostile writers: " + published + " of " + ROUNDS + " rounds published; faults injected: "
              + (faultsA.failed() + faultsB.failed()));

      faultsA.chaos(seed, 0, 0, Set.of());
      UploadSpec fresh = verified(honest, "honest");
      Upload u = a.openUpload(fresh).get(60, TimeUnit.SECONDS);
      append(u, honest, u.committedSize(), honest.length);
      assertThat(u.finish().get(60, TimeUnit.SECONDS)).isEqualTo(honest.length);
      assertThat(sha256(direct.get(fresh.key(), Integer.MAX_VALUE).get(60, TimeUnit.SECONDS).array()))
          .isEqualTo(sha256(honest));
    } finally {
      threads.shutdownNow();
    }
  }

  /** How a writer ends once it has sent its bytes up to its stopping point. */
  private enum Ending {
    FINISH, SUSPEND, DETACH, ABORT
  }

  private static void write(S3BlobStore store, UploadSpec spec, byte[] content, Ending ending, long stopAt) {
    Upload u;
    try {
      u = store.openUpload(spec).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return;
    }
    try {
      long to = ending == Ending.FINISH ? content.length : Math.max(u.committedSize(), stopAt);
      append(u, content, u.committedSize(), to);
      switch (ending) {
        case FINISH -> u.finish().get(60, TimeUnit.SECONDS);
        case SUSPEND -> u.suspend().get(60, TimeUnit.SECONDS);
        case DETACH -> u.detach();
        case ABORT -> u.abort().get(60, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      // A failed writer stops, as its client would; it may leave anything behind but a wrong blob.
      u.detach();
    }
  }

  private static S3BlobStore store(S3StoreConfig.Builder server, String prefix, S3Faults faults) {
    return S3BlobStore.create(
        server.keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(2)
            .interceptors(List.of(faults)).build(),
        new MemoryBudget(48L << 20));
  }

  private static void append(Upload u, byte[] data, long from, long to) throws Exception {
    for (long i = from; i < to; i += 1 << 20) {
      u.append(ByteBuffer.wrap(data, (int) i, (int) Math.min(1 << 20, to - i))).get(60, TimeUnit.SECONDS);
    }
  }

  private static UploadSpec verified(byte[] content, String uploadId) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
    return new UploadSpec(
        BlobKey.of("cas/sha256/" + sha256(content) + "-" + uploadId), uploadId, content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), true);
  }
}
