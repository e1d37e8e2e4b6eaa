package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.LifecycleCounters;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the local tier did: reads served from disk (hits) and from the slow store (misses), blobs
 * filled and the bytes they brought, files dropped because they failed verification, copies of the
 * slow store's bytes rejected because they did not match their key, and through
 * {@link #disk()} what the tier holds and evicted. Thread-safe; read by metrics on every scrape.
 */
public final class TierCounters {

  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong hitBytes = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong fills = new AtomicLong();
  private final AtomicLong fillBytes = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final LifecycleCounters disk = new LifecycleCounters();

  void hit(long bytes) {
    hits.incrementAndGet();
    hitBytes.addAndGet(bytes);
  }

  void miss() {
    misses.incrementAndGet();
  }

  void filled(long bytes) {
    fills.incrementAndGet();
    fillBytes.addAndGet(bytes);
  }

  void droppedOne() {
    dropped.incrementAndGet();
  }

  void rejectedOne() {
    rejected.incrementAndGet();
  }

  /** Reads (and whole-blob gets) of CAS blobs served from the tier's files. */
  public long hits() {
    return hits.get();
  }

  /** Bytes of the blobs those hits served (whole blobs, whatever range was read). */
  public long hitBytes() {
    return hitBytes.get();
  }

  /** Reads of CAS blobs the tier did not hold, served from the slow store. */
  public long misses() {
    return misses.get();
  }

  /** Blobs the tier copied from the slow store or from an upload and kept. */
  public long fills() {
    return fills.get();
  }

  /** Bytes of those blobs. */
  public long fillBytes() {
    return fillBytes.get();
  }

  /** Files dropped because their bytes did not match their key's digest. */
  public long dropped() {
    return dropped.get();
  }

  /**
   * Copies of blobs read from the slow store that the tier did not keep because their bytes did
   * not match their key's digest: the slow store holds a blob that is not the one its key names.
   */
  public long rejected() {
    return rejected.get();
  }

  /** Blobs and bytes the tier holds now, and what it evicted to stay under its limit. */
  public LifecycleCounters disk() {
    return disk;
  }
}
