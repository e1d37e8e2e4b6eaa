package dev.bytestreams3.service.config;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the store a configuration names and the memory budget it shares, and closes them. */
public final class StoreFactory implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StoreFactory.class);

  private final ServerConfig config;
  private final MemoryBudget budget;
  private BlobStore store;
  private ScheduledExecutorService reaper;

  public StoreFactory(ServerConfig config) {
    this.config = requireNonNull(config, "config");
    this.budget = new MemoryBudget(config.memoryBudgetBytes());
  }

  /** The budget every buffer of the store is reserved from. */
  public MemoryBudget budget() {
    return budget;
  }

  /** Opens the store: S3 when a bucket is set, the local folder otherwise. */
  public synchronized BlobStore open() {
    if (store == null) {
      store = config.usesS3() ? openS3() : openLocal();
    }
    return store;
  }

  private BlobStore openLocal() {
    return new LocalBlobStore(config.dataDir(), 4L * 1024 * 1024, 8);
  }

  private BlobStore openS3() {
    throw new IllegalArgumentException(
        "--bucket is set, but this build has no S3 store yet; run without --bucket");
  }

  @Override
  public synchronized void close() {
    if (reaper != null) {
      reaper.shutdownNow();
    }
    if (store != null) {
      store.close();
    }
  }
}
