package dev.bytestreams3.service.config;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.local.LocalBlobStore;

/** Builds the store a configuration names and the memory budget it shares, and closes them. */
public final class StoreFactory implements AutoCloseable {

  private final ServerConfig config;
  private final MemoryBudget budget;
  private BlobStore store;

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
      store = new LocalBlobStore(config.dataDir(), 4L * 1024 * 1024, 8);
    }
    return store;
  }

  @Override
  public synchronized void close() {
    if (store != null) {
      store.close();
    }
  }
}
