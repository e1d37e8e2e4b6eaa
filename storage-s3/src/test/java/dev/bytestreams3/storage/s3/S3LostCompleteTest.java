package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.append;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.await;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.failureOf;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CompleteMultipartUpload carried out by S3 whose response is lost: the SDK's retry finds the
 * upload gone ({@code NoSuchUpload}: S3, S3Proxy), its parts gone ({@code InvalidPart}: S3Proxy,
 * at times) or the key taken ({@code 412} with {@code If-None-Match: *}), or completes it again
 * (S3Mock, S3Proxy at times), and the writer learns from the object at the key whether it is its
 * own. Subclasses name the S3 server.
 */
abstract class S3LostCompleteTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private final S3Faults faults = new S3Faults();
  private S3BlobStore store;
  private S3BlobStore other;

  /** A store configuration for the server under test. */
  abstract S3StoreConfig.Builder server();

  @BeforeEach
  void openStores() {
    String prefix = "lost-" + UUID.randomUUID();
    store =
        S3BlobStore.create(
            server().keyPrefix(prefix).partSizeBytes(PART).interceptors(List.of(faults)).build(),
            new MemoryBudget(64L << 20));
    other =
        S3BlobStore.create(
            server().keyPrefix(prefix).partSizeBytes(PART).build(), new MemoryBudget(64L << 20));
  }

  @AfterEach
  void closeStores() {
    store.close();
    other.close();
  }

  @Test
  void lostCompleteResponse_ofACasBlob_isSuccess() throws Exception {
    byte[] x = bytes(2 * PART + 333, 31);
    UploadSpec spec = verified(x);
    Upload u = await(store.openUpload(spec));
    append(u, x, 0, x.length);
    faults.loseNextResponse("CompleteMultipartUpload", () -> {});

    assertThat(await(u.finish())).isEqualTo(x.length);
    assertThat(faults.failedAny("CompleteMultipartUpload")).isTrue();
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(x);
    assertThat(await(other.records().read(spec))).isEmpty();
  }

  /**
   * Another writer stores the same blob between S3's Complete and the retry, which then finds the
   * upload gone (S3Proxy): the key holds the blob's bytes, so the upload is published.
   */
  @Test
  void lostCompleteResponse_ofACasBlobStoredAgainBeforeTheRetry_isSuccess() throws Exception {
    byte[] x = bytes(PART + 777, 35);
    UploadSpec spec = verified(x);
    Upload u = await(store.openUpload(spec));
    append(u, x, 0, x.length);
    faults.loseNextResponse(
        "CompleteMultipartUpload", () -> other.put(spec.key(), ByteBuffer.wrap(x)).join());

    assertThat(await(u.finish())).isEqualTo(x.length);
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(x);
  }

  @Test
  void lostCompleteResponse_ofAnObject_isSuccess() throws Exception {
    byte[] x = bytes(PART + 4444, 32);
    UploadSpec spec = object(false);
    Upload u = await(store.openUpload(spec));
    append(u, x, 0, x.length);
    faults.loseNextResponse("CompleteMultipartUpload", () -> {});

    assertThat(await(u.finish())).isEqualTo(x.length);
    assertThat(faults.failedAny("CompleteMultipartUpload")).isTrue();
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(x);
  }

  /**
   * Another writer replaces the object between S3's Complete and the retry. The retry never undoes
   * the replacement. Where it finds the upload gone, the object is not this upload's: CONFLICT. A
   * store that answers a completed upload's Complete again with success (S3Mock) says this
   * upload was published, which it was, before the other writer replaced it.
   */
  @Test
  void lostCompleteResponse_ofAnObjectReplacedBeforeTheRetry_answersWhatTheKeyHolds()
      throws Exception {
    byte[] x = bytes(PART + 4444, 33);
    byte[] theirs = bytes(PART + 4444, 34);
    UploadSpec spec = object(true);
    Upload u = await(store.openUpload(spec));
    append(u, x, 0, x.length);
    faults.loseNextResponse(
        "CompleteMultipartUpload", () -> other.put(spec.key(), ByteBuffer.wrap(theirs)).join());

    if (completesAgain()) {
      assertThat(await(u.finish())).isEqualTo(x.length);
    } else {
      StorageException e = StorageException.from(failureOf(u.finish()));
      assertThat(e.reason()).isEqualTo(Reason.CONFLICT);
      assertThat(e.getMessage())
          .contains("CompleteMultipartUpload")
          .containsAnyOf("NoSuchUpload", "InvalidPart");
    }
    assertThat(await(other.get(spec.key(), Integer.MAX_VALUE)).array()).isEqualTo(theirs);
  }

  /** Whether the server completes a completed multipart upload again when asked to. */
  abstract boolean completesAgain();

  private static UploadSpec object(boolean overwrite) {
    return new UploadSpec(
        BlobKey.of("files/" + UUID.randomUUID()), "object", -1, Optional.empty(), overwrite);
  }
}
