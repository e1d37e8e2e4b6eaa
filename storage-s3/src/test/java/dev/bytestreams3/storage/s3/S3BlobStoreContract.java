package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.BlobStoreContractTest;
import dev.bytestreams3.storage.MemoryBudget;
import java.util.UUID;

/**
 * The store contract on one S3 server: small parts and segments, so that uploads and reads cross
 * several of each, and committed sizes in whole parts. Each server's test says where it is.
 */
abstract class S3BlobStoreContract extends BlobStoreContractTest {

  static final long PART = S3StoreConfig.MIN_PART_BYTES;
  static final int SEGMENT = 1024 * 1024;

  private final String prefix = "contract-" + UUID.randomUUID() + "/";

  /** The server's endpoint, bucket and credentials. */
  protected abstract S3StoreConfig.Builder server();

  /** The server as the test prints it, e.g. {@code S3Mock at http://...}. */
  protected abstract String serverName();

  /** The settings every store of this test opens with, under a prefix of its own. */
  protected S3StoreConfig.Builder config() {
    return server()
        .keyPrefix(prefix)
        .partSizeBytes(PART)
        .maxPartsInFlight(2)
        .readSegmentBytes(SEGMENT)
        .maxSegmentsInFlight(3);
  }

  @Override
  protected BlobStore openStore(MemoryBudget budget) {
    return S3BlobStore.create(config().build(), budget);
  }

  @Override
  protected String backendName() {
    return serverName();
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
