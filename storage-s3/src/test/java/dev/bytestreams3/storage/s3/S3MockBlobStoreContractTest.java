package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.BlobStoreContractTest;
import dev.bytestreams3.storage.MemoryBudget;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on S3Mock in this JVM: always runs. */
class S3MockBlobStoreContractTest extends BlobStoreContractTest {

  static final long PART = S3StoreConfig.MIN_PART_BYTES;
  static final int SEGMENT = 1024 * 1024;

  private static S3MockFixture s3;
  private final String prefix = "contract-" + UUID.randomUUID() + "/";

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

  @Override
  protected BlobStore openStore(MemoryBudget budget) {
    return S3BlobStore.create(
        s3.storeConfig()
            .keyPrefix(prefix)
            .partSizeBytes(PART)
            .maxPartsInFlight(2)
            .readSegmentBytes(SEGMENT)
            .maxSegmentsInFlight(3)
            .build(),
        budget);
  }

  @Override
  protected String backendName() {
    return "S3Mock at " + s3.endpoint() + ", bucket " + s3.bucket();
  }

  @Override
  protected long partSizeBytes() {
    return PART;
  }

  @Override
  protected int readSegmentBytes() {
    return SEGMENT;
  }

  @Override
  protected long committedAfterSuspend(long written) {
    return written / PART * PART;
  }

  @Override
  protected boolean isCommitBoundary(long committed) {
    return committed % PART == 0;
  }
}
