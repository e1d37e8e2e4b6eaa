package dev.bytestreams3.service.config;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.local.LocalBlobStore;
import dev.bytestreams3.storage.local.LocalLimits;
import dev.bytestreams3.storage.tier.CasKeys;
import dev.bytestreams3.storage.tier.TieredStore;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.OptionalLong;
import dev.bytestreams3.storage.s3.S3BlobStore;
import dev.bytestreams3.storage.s3.S3StoreConfig;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import org.slf4j.LoggerFactory;

/** Builds the store a configuration names and the memory budget it shares, and closes them. */
public final class StoreFactory implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StoreFactory.class);

  private final ServerConfig config;
  private final MemoryBudget budget;
  private BlobStore store;
  private ScheduledExecutorService reaper;

  private final List<ExecutionInterceptor> s3Interceptors;

  public StoreFactory(ServerConfig config) {
    this(config, List.of());
  }

  /**
   * @param s3Interceptors interceptors the S3 client runs for every request (e.g. for metrics)
   */
  public StoreFactory(ServerConfig config, List<ExecutionInterceptor> s3Interceptors) {
    this.config = requireNonNull(config, "config");
    this.budget =
        new MemoryBudget(
            config.memoryBudgetBytes(), config.memoryBudgetBytes() / MAX_RESERVATION_SHARE);
    this.s3Interceptors = List.copyOf(requireNonNull(s3Interceptors, "s3Interceptors"));
  }

  /**
   * One buffer (a part, a read segment) may take at most one in this many bytes of the budget, so
   * that no single upload or read can hold it against the others.
   */
  public static final int MAX_RESERVATION_SHARE = 4;

  /** The budget every buffer of the store is reserved from. */
  public MemoryBudget budget() {
    return budget;
  }

  /**
   * Opens the store: S3 when a bucket is set, the local folder otherwise; behind a local disk tier
   * when {@code --cache-dir} is set.
   */
  public synchronized BlobStore open() {
    if (store == null) {
      BlobStore backing = config.usesS3() ? openS3() : openLocal();
      store = config.tiered() ? tier(backing) : backing;
    }
    return store;
  }

  /**
   * The tier in front of {@code backing}; a tier folder that cannot be prepared is a bad setting,
   * reported as an {@link IllegalArgumentException} naming the folder.
   */
  private BlobStore tier(BlobStore backing) {
    Path dir = config.cacheDir().orElseThrow();
    try {
      return openTier(backing);
    } catch (UncheckedIOException e) {
      backing.close();
      throw new IllegalArgumentException(
          "--cache-dir: cannot use " + dir + " as the local tier folder: " + FileErrorText.of(e),
          e);
    }
  }

  private BlobStore openTier(BlobStore backing) {
    return new TieredStore(
        backing,
        new CasKeys(dev.bytestreams3.service.CacheServer.digestFunctions().all()),
        config.cacheDir().orElseThrow(),
        config.cacheMaxBytes() == 0
            ? OptionalLong.empty()
            : OptionalLong.of(config.cacheMaxBytes()),
        TIER_IO_THREADS,
        budget,
        Clock.systemUTC(),
        config.cacheActionResultsMaxAge());
  }

  /** Threads of the tier's file I/O and hashing: hashing a large blob runs on one. */
  private static final int TIER_IO_THREADS = 8;

  /**
   * The local store; a folder that cannot be prepared is a bad setting, reported as an {@link
   * IllegalArgumentException} naming the folder.
   */
  private BlobStore openLocal() {
    try {
      return newLocal();
    } catch (StorageException e) {
      throw new IllegalArgumentException(
          "--data-dir: cannot use " + config.dataDir() + " as the store's folder: "
              + FileErrorText.of(e),
          e);
    }
  }

  private BlobStore newLocal() {
    LocalBlobStore local =
        new LocalBlobStore(
            config.dataDir(), 4L * 1024 * 1024, 8, budget,
            new LocalLimits(
                config.maxDiskBytes() == 0
                    ? OptionalLong.empty()
                    : OptionalLong.of(config.maxDiskBytes()),
                config.uploadIdleTimeout(),
                Clock.systemUTC()));
    return local;
  }

  private BlobStore openS3() {
    S3BlobStore s3 =
        S3BlobStore.create(s3Config(config).toBuilder().interceptors(s3Interceptors).build(), budget);
    // Unfinished multipart uploads are billed until aborted: sweep the idle ones now and then.
    long everySeconds = Math.max(60, Math.min(3600, config.uploadIdleTimeout().toSeconds() / 4));
    reaper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "idle-upload-reaper");
              t.setDaemon(true);
              return t;
            });
    // The task waits for its sweep on the reaper's own thread, so the delay runs from the end of
    // one sweep to the start of the next and sweeps never overlap.
    reaper.scheduleWithFixedDelay(
        () ->
            s3.abortIdleUploads(config.uploadIdleTimeout())
                .handle(
                    (n, err) -> {
                      if (err != null) {
                        log.warn("aborting idle uploads failed: {}", err.toString());
                      } else if (n > 0) {
                        log.info("aborted {} uploads idle for more than {}", n, config.uploadIdleTimeout());
                      }
                      return null;
                    })
                .join(),
        everySeconds,
        everySeconds,
        TimeUnit.SECONDS);
    return s3;
  }

  /** The S3 store's settings from the server's. */
  static S3StoreConfig s3Config(ServerConfig c) {
    S3StoreConfig.Builder b =
        S3StoreConfig.builder()
            .bucket(c.bucket().orElseThrow())
            .keyPrefix(c.keyPrefix())
            .pathStyleAccess(c.pathStyleAccess())
            .checksumMode(
                c.checksumMode().equals("when-supported")
                    ? S3StoreConfig.ChecksumMode.WHEN_SUPPORTED
                    : S3StoreConfig.ChecksumMode.WHEN_REQUIRED)
            .partSizeBytes(c.partSizeBytes())
            .maxPartsInFlight(c.partsInFlight())
            .recordEveryParts(c.uploadRecordEveryParts())
            .recordEvery(c.uploadRecordEvery())
            .readSegmentBytes((int) c.readSegmentBytes())
            .maxSegmentsInFlight(c.readSegmentsInFlight())
            .refreshThreshold(c.refreshThreshold())
            .maxAttempts(c.s3MaxAttempts())
            .responseTimeout(c.s3ResponseTimeout());
    c.region().ifPresent(b::region);
    c.endpoint().ifPresent(b::endpointOverride);
    if (c.accessKeyId().isPresent()) {
      b.credentials(c.accessKeyId().get(), c.secretAccessKey().orElse(""));
    }
    return b.build();
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
