package dev.bytestreams3.storage;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a store did to keep itself bounded: blobs and bytes it holds now (where it knows), evicted
 * to stay under a size limit, and refreshed so that an expiry rule does not remove them while
 * they are in use. Thread-safe; read by metrics on every scrape.
 */
public final class LifecycleCounters {

  private final AtomicLong storedObjects = new AtomicLong();
  private final AtomicLong storedBytes = new AtomicLong();
  private final AtomicLong evictedObjects = new AtomicLong();
  private final AtomicLong evictedBytes = new AtomicLong();
  private final AtomicLong refreshedObjects = new AtomicLong();
  private final AtomicLong refreshedBytes = new AtomicLong();

  /** Counts a blob of {@code bytes} added to ({@code count} 1) or removed from (-1) the store. */
  public void stored(int count, long bytes) {
    storedObjects.addAndGet(count);
    storedBytes.addAndGet(bytes);
  }

  /** Counts a blob of {@code bytes} evicted; the caller also counts it out of the store. */
  public void evicted(long bytes) {
    evictedObjects.incrementAndGet();
    evictedBytes.addAndGet(bytes);
  }

  /** Counts a blob of {@code bytes} whose date was reset. */
  public void refreshed(long bytes) {
    refreshedObjects.incrementAndGet();
    refreshedBytes.addAndGet(bytes);
  }

  public long storedObjects() {
    return storedObjects.get();
  }

  public long storedBytes() {
    return storedBytes.get();
  }

  public long evictedObjects() {
    return evictedObjects.get();
  }

  public long evictedBytes() {
    return evictedBytes.get();
  }

  public long refreshedObjects() {
    return refreshedObjects.get();
  }

  public long refreshedBytes() {
    return refreshedBytes.get();
  }
}
