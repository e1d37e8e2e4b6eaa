package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.ContentHasher;
import dev.bytestreams3.storage.local.DiskIndex;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Comparator;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The tier's folder: {@code blobs/<key>} holds complete blobs, each renamed into place whole;
 * {@code tmp/} holds fills and upload copies on their way there and is emptied at start. Which
 * files were verified is remembered with their size and modification time: a file is hashed again
 * before it is served when either differs (a restart forgets all, so each file is hashed once
 * more). Blocking; called on the tier's I/O threads.
 */
final class TierFiles {

  /** The buffer files are hashed through: small enough never to be a humongous object. */
  private static final int HASH_CHUNK_BYTES = 256 * 1024;

  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private final DiskIndex index;
  private final TierCounters counters;
  /** Files verified, with the size and modification time they had then. */
  private final Map<BlobKey, Stamp> verified = new ConcurrentHashMap<>();

  TierFiles(Path root, OptionalLong maxBytes, Clock clock, TierCounters counters) {
    this.root = root;
    this.blobs = root.resolve("blobs");
    this.tmp = root.resolve("tmp");
    this.counters = counters;
    try {
      Files.createDirectories(blobs);
      Files.createDirectories(tmp);
      // What a stopped process left half-written is never published.
      try (Stream<Path> left = Files.walk(tmp)) {
        for (Path p : left.sorted(Comparator.reverseOrder()).toList()) {
          if (!p.equals(tmp)) {
            Files.deleteIfExists(p);
          }
        }
      }
      // A folder that cannot be written is found now, not at the first fill.
      Files.delete(Files.createFile(tmp.resolve("probe-" + UUID.randomUUID())));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the local tier under " + root, e);
    }
    this.index = new DiskIndex(blobs, maxBytes, clock, counters.disk());
    index.addListener(verified::remove);
    try {
      index.evict();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot evict from the local tier under " + root, e);
    }
  }

  Path root() {
    return root;
  }

  long maxBytes() {
    return index.maxBytes();
  }

  DiskIndex index() {
    return index;
  }

  /** A new, unique temporary file name. */
  Path newTemp() {
    return tmp.resolve(UUID.randomUUID().toString());
  }

  Path blobPath(BlobKey key) {
    return blobs.resolve(key.value());
  }

  /**
   * Opens the tier's file of {@code key} for reading, pinned against eviction, after checking it
   * against {@code check} unless it is unchanged since it was last checked; returns null when the
   * tier holds no such file or held one that failed the check (now dropped). The caller unpins.
   */
  FileChannel openVerified(BlobKey key, ContentCheck check) throws IOException {
    index.pin(key);
    FileChannel ch = null;
    try {
      try {
        ch = FileChannel.open(blobPath(key), StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        index.forget(key);
        index.unpin(key);
        return null;
      }
      Stamp now = stamp(key);
      if (!now.equals(verified.get(key))) {
        if (!matches(ch, check)) {
          ch.close();
          ch = null;
          drop(key);
          index.unpin(key);
          counters.droppedOne();
          return null;
        }
      }
      index.used(key);
      verified.put(key, stamp(key));
      return ch;
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      index.unpin(key);
      throw e;
    }
  }

  /**
   * Opens the tier's file of {@code key} for reading, pinned against eviction, without checking its
   * bytes (for keys that name no digest); returns null when the tier holds no such file. The
   * caller unpins.
   */
  FileChannel openUnchecked(BlobKey key) throws IOException {
    index.pin(key);
    try {
      FileChannel ch = FileChannel.open(blobPath(key), StandardOpenOption.READ);
      index.used(key);
      return ch;
    } catch (NoSuchFileException e) {
      index.forget(key);
      index.unpin(key);
      return null;
    } catch (IOException | RuntimeException e) {
      index.unpin(key);
      throw e;
    }
  }

  /** Whether the bytes of {@code ch} hash to {@code check}'s digest. */
  private static boolean matches(FileChannel ch, ContentCheck check) throws IOException {
    ContentHasher hasher = check.function().newHasher();
    hash(ch, hasher, 0, Long.MAX_VALUE);
    return MessageDigest.isEqual(hasher.digest(), check.expectedDigest());
  }

  /**
   * Adds the bytes of {@code ch} from {@code from} to {@code to}, or to its end if that comes
   * first, to {@code hasher}; returns the position it stopped at.
   */
  static long hash(FileChannel ch, ContentHasher hasher, long from, long to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(HASH_CHUNK_BYTES, Math.max(0, to - from)));
    long at = from;
    while (at < to) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), to - at));
      int n = ch.read(buf, at);
      if (n < 0) {
        break;
      }
      at += n;
      hasher.update(buf.flip());
    }
    return at;
  }

  /**
   * Makes the complete file {@code temp} the tier's copy of {@code key}, replacing any, and evicts
   * what no longer fits. {@code verifiedNow} says whether its bytes were just hashed against the
   * key's digest; a file that was not is hashed the first time it is served.
   */
  void publish(Path temp, BlobKey key, boolean verifiedNow) throws IOException {
    Path target = blobPath(key);
    Files.createDirectories(target.getParent());
    long size = Files.size(temp);
    verified.remove(key);
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    index.published(key, size);
    index.used(key);
    if (verifiedNow) {
      verified.put(key, stamp(key));
    }
    counters.filled(size);
    index.evict();
  }

  /**
   * Deletes {@code temp}, a complete copy of a blob read from the slow store whose bytes did not
   * match its key's digest, and counts it as rejected.
   */
  void reject(Path temp) throws IOException {
    counters.rejectedOne();
    Files.deleteIfExists(temp);
  }

  /** Deletes the tier's copy of {@code key}. */
  void drop(BlobKey key) throws IOException {
    verified.remove(key);
    Files.deleteIfExists(blobPath(key));
    index.forget(key);
  }

  private Stamp stamp(BlobKey key) throws IOException {
    BasicFileAttributes a = Files.readAttributes(blobPath(key), BasicFileAttributes.class);
    return new Stamp(a.size(), a.lastModifiedTime());
  }

  /** What a file looked like when it was verified. */
  private record Stamp(long size, FileTime modified) {}
}
