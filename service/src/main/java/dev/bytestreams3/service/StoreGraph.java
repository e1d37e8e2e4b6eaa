package dev.bytestreams3.service;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.actioncache.OutputCheckedStore;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ExistenceCachedStore;
import java.time.Clock;

/**
 * The store the services see, built from the configured store by wrapping it in one concern at a
 * time, innermost first:
 *
 * <ol>
 *   <li>the configured store (local folder or S3);
 *   <li>{@link ExistenceCachedStore}: existence checks answered from memory, bounded, and kept
 *       true by every read, write and eviction that passes through it;
 *   <li>{@link OutputCheckedStore}: action results exist only while the blobs they name do, asked
 *       of the layer below so that those checks are cached and keep the outputs alive.
 * </ol>
 *
 * <p>A new layer goes into {@link #over(BlobStore, ServerConfig, Clock)}, at the place its
 * concern belongs; nothing else builds stores around the configured one.
 */
public final class StoreGraph {

  private final BlobStore top;
  private final ExistenceCachedStore existenceCache;

  private StoreGraph(BlobStore top, ExistenceCachedStore existenceCache) {
    this.top = top;
    this.existenceCache = existenceCache;
  }

  /** The graph {@code config} describes over {@code backing}, its cache timed by the system clock. */
  public static StoreGraph over(BlobStore backing, ServerConfig config) {
    return over(backing, config, Clock.systemUTC());
  }

  /** The graph {@code config} describes over {@code backing}, its cache's TTL measured by {@code clock}. */
  public static StoreGraph over(BlobStore backing, ServerConfig config, Clock clock) {
    requireNonNull(backing, "backing");
    requireNonNull(config, "config");
    requireNonNull(clock, "clock");
    ExistenceCachedStore existence =
        new ExistenceCachedStore(
            backing, config.existenceCacheEntries(), config.existenceChecksInFlight(),
            config.existenceCacheTtl(), clock);
    BlobStore top =
        new OutputCheckedStore(existence, new KeyLayout(), CacheServer.digestFunctions());
    return new StoreGraph(top, existence);
  }

  /** The store the services read and write through. */
  public BlobStore store() {
    return top;
  }

  /** The existence cache, for its counters. */
  public ExistenceCachedStore existenceCache() {
    return existenceCache;
  }

  /** The graph in one line, outermost store first: {@code output-checked(existence-cached(...))}. */
  public String describe() {
    return top.describe();
  }
}
