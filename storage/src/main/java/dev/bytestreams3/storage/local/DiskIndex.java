package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.LifecycleCounters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The published blobs of a local store in least-recently-used order, with their total size, kept
 * under a byte limit by deleting the least recently used. A blob's last use is its file's
 * modification time, set on every read, so the order survives a restart: the index is rebuilt from
 * the files, oldest first. A blob being read is pinned and never evicted; uploads in progress live
 * outside {@code blobs/} and are never counted or evicted here. The local tier in front of a slow
 * store keeps its files the same way.
 */
public final class DiskIndex {

  private final Path blobs;
  private final long maxBytes;
  private final boolean defaultLimit;
  private final Clock clock;
  private final LifecycleCounters counters;
  /** Key to size, least recently used first. Guarded by itself. */
  private final LinkedHashMap<BlobKey, Long> order = new LinkedHashMap<>(16, 0.75f, true);
  /** Open readers per key. Guarded by {@link #order}. */
  private final Map<BlobKey, Integer> pins = new HashMap<>();
  private final List<Consumer<BlobKey>> listeners = new CopyOnWriteArrayList<>();
  private long totalBytes;

  /**
   * Reads every blob under {@code blobs}, ordered by last use (file modification time).
   *
   * @param maxBytes the limit; empty for half of what the store may use on its disk: the free
   *     space plus what the store already holds
   */
  public DiskIndex(Path blobs, OptionalLong maxBytes, Clock clock, LifecycleCounters counters) {
    if (maxBytes.isPresent() && maxBytes.getAsLong() <= 0) {
      throw new IllegalArgumentException(
          "maxBytes: " + maxBytes.getAsLong() + " (expected: > 0)");
    }
    this.blobs = blobs;
    this.clock = clock;
    this.counters = counters;
    record Found(BlobKey key, long size, FileTime used) {}
    List<Found> found = new ArrayList<>();
    try (Stream<Path> all = Files.walk(blobs)) {
      all.forEach(
          p -> {
            try {
              BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
              if (a.isRegularFile()) {
                String rel = blobs.relativize(p).toString().replace('\\', '/');
                found.add(new Found(BlobKey.of(rel), a.size(), a.lastModifiedTime()));
              }
            } catch (NoSuchFileException e) {
              // Removed while listed.
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + blobs, e);
    }
    found.sort(Comparator.comparing(Found::used));
    for (Found f : found) {
      order.put(f.key(), f.size());
      totalBytes += f.size();
      counters.stored(1, f.size());
    }
    this.defaultLimit = maxBytes.isEmpty();
    if (maxBytes.isPresent()) {
      this.maxBytes = maxBytes.getAsLong();
    } else {
      try {
        this.maxBytes = Math.max(1, (Files.getFileStore(blobs).getUsableSpace() + totalBytes) / 2);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the free space of " + blobs, e);
      }
    }
  }

  /** Whether the limit is the default one, taken from the disk's free space. */
  public boolean defaultLimit() {
    return defaultLimit;
  }

  /** The most bytes kept. */
  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes of all published blobs. */
  public long totalBytes() {
    synchronized (order) {
      return totalBytes;
    }
  }

  /** Keys from least to most recently used; for tests and logs. */
  public List<BlobKey> keysOldestFirst() {
    synchronized (order) {
      return List.copyOf(order.keySet());
    }
  }

  public void addListener(Consumer<BlobKey> listener) {
    listeners.add(listener);
  }

  /** Counts a blob just published at {@code key} as the most recently used, replacing any old one. */
  public void published(BlobKey key, long sizeBytes) {
    synchronized (order) {
      Long old = order.put(key, sizeBytes);
      if (old != null) {
        totalBytes -= old;
        counters.stored(-1, -old);
      }
      totalBytes += sizeBytes;
      counters.stored(1, sizeBytes);
    }
  }

  /**
   * Marks {@code key} as just used: last in the eviction order now, and on disk (its modification
   * time), so that a restart keeps the order. Call on a thread that may do file I/O.
   */
  public void used(BlobKey key) throws IOException {
    synchronized (order) {
      if (order.get(key) == null) {
        return;
      }
    }
    try {
      Files.setLastModifiedTime(blobs.resolve(key.value()), FileTime.from(clock.instant()));
    } catch (NoSuchFileException e) {
      forget(key);
    }
  }

  /** Keeps {@code key} from eviction until {@link #unpin}; for a blob being read. */
  public void pin(BlobKey key) {
    synchronized (order) {
      pins.merge(key, 1, Integer::sum);
    }
  }

  public void unpin(BlobKey key) {
    synchronized (order) {
      pins.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
    }
  }

  /** Drops {@code key}, whose file is gone. */
  public void forget(BlobKey key) {
    synchronized (order) {
      Long old = order.remove(key);
      if (old != null) {
        totalBytes -= old;
        counters.stored(-1, -old);
      }
    }
  }

  /**
   * Deletes the least recently used blobs that are not being read until the total is at most the
   * limit; returns how many it deleted. Each key evicted is told to the listeners.
   */
  public int evict() throws IOException {
    List<BlobKey> evicted = new ArrayList<>();
    synchronized (order) {
      Iterator<Map.Entry<BlobKey, Long>> it = order.entrySet().iterator();
      while (totalBytes > maxBytes && it.hasNext()) {
        Map.Entry<BlobKey, Long> e = it.next();
        if (pins.containsKey(e.getKey())) {
          continue;
        }
        Files.deleteIfExists(blobs.resolve(e.getKey().value()));
        it.remove();
        totalBytes -= e.getValue();
        counters.stored(-1, -e.getValue());
        counters.evicted(e.getValue());
        evicted.add(e.getKey());
      }
    }
    for (BlobKey k : evicted) {
      for (Consumer<BlobKey> l : listeners) {
        l.accept(k);
      }
    }
    return evicted.size();
  }
}
