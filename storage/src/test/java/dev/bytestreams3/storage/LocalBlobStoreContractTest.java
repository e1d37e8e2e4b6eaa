package dev.bytestreams3.storage;

import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on the local-filesystem store, which commits every byte it has synced. */
class LocalBlobStoreContractTest extends BlobStoreContractTest {

  @TempDir Path root;

  @Override
  protected BlobStore openStore(MemoryBudget budget) {
    return new LocalBlobStore(root, 1024 * 1024, 4, budget);
  }

  @Override
  protected String backendName() {
    return "local folder " + root;
  }

  @Override
  protected long partSizeBytes() {
    return 5L * 1024 * 1024;
  }

  @Override
  protected int readSegmentBytes() {
    return 256 * 1024;
  }

  @Override
  protected long committedAfterSuspend(long written) {
    return written;
  }

  @Override
  protected boolean isCommitBoundary(long committed) {
    return true;
  }
}
