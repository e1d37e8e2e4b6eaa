package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.await;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
 * Every PutObject and UploadPart is sent twice: S3 takes the first attempt's body and answers,
 * the answer is lost, and the SDK retries with the same body, while other uploads run, their
 * messages' buffers are reused by their writers as soon as an append completes, and part buffers
 * go back to a small memory budget and are reserved again. Each key then holds its own bytes: a
 * retry never reads a buffer that has since held other bytes.
 */
class S3RetriedBodiesTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;
  private static final int UPLOADS = 12;

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

  @Test
  void everyBodySentTwice_whileOthersWrite_eachKeyHoldsItsOwnBytes() throws Exception {
    S3Faults faults = new S3Faults();
    String prefix = "retried-" + UUID.randomUUID();
    ExecutorService writers = Executors.newFixedThreadPool(4);
    try (S3BlobStore store =
            S3BlobStore.create(
                s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).maxPartsInFlight(2)
                    .interceptors(List.of(faults)).build(),
                new MemoryBudget(40L << 20));
        S3BlobStore reader =
            S3BlobStore.create(
                s3.storeConfig().keyPrefix(prefix).build(), new MemoryBudget(64L << 20))) {
      await(store.records().conditions());
      faults.loseFirstResponses(Set.of("PutObject", "UploadPart"));

      List<UploadSpec> specs = new ArrayList<>();
      List<byte[]> contents = new ArrayList<>();
      List<CompletableFuture<Long>> written = new ArrayList<>();
      for (int i = 0; i < UPLOADS; i++) {
        // Small blobs (one PutObject) and blobs of two or three parts, verified and not.
        long size = i % 2 == 0 ? 1000 + 37_000L * i : 2 * PART + 10_000L * i;
        byte[] content = bytes(size, 100 + i);
        UploadSpec spec =
            i % 4 < 2
                ? verified(content)
                : new UploadSpec(
                    BlobKey.of("files/" + UUID.randomUUID()), "object", -1, Optional.empty(), true);
        specs.add(spec);
        contents.add(content);
        written.add(CompletableFuture.supplyAsync(() -> write(store, spec, content), writers));
      }
      for (int i = 0; i < UPLOADS; i++) {
        assertThat(written.get(i).get(150, TimeUnit.SECONDS)).isEqualTo(contents.get(i).length);
      }
      for (int i = 0; i < UPLOADS; i++) {
        assertThat(await(reader.get(specs.get(i).key(), Integer.MAX_VALUE)).array())
            .as("bytes under " + specs.get(i).key())
            .isEqualTo(contents.get(i));
      }
      assertThat(faults.failedAny("PutObject")).isTrue();
      assertThat(faults.failedAny("UploadPart")).isTrue();
    } finally {
      writers.shutdownNow();
    }
  }

  /**
   * Writes {@code content} through one reused 256 KiB message buffer, overwritten with the next
   * bytes as soon as the store said it may be, as a transport reuses its buffers.
   */
  private static long write(S3BlobStore store, UploadSpec spec, byte[] content) {
    try {
      Upload u = await(store.openUpload(spec));
      ByteBuffer message = ByteBuffer.allocate(256 * 1024);
      for (int i = 0; i < content.length; i += message.capacity()) {
        int n = Math.min(message.capacity(), content.length - i);
        message.clear();
        message.put(content, i, n).flip();
        await(u.append(message));
        // The store may keep nothing of it now: scribble over it as a pooled buffer would be.
        message.clear();
        while (message.hasRemaining()) {
          message.put((byte) 0x5a);
        }
      }
      return await(u.finish());
    } catch (Exception e) {
      throw new AssertionError("upload of " + spec.key() + " failed", e);
    }
  }
}
