package dev.bytestreams3.storage.local;

import java.io.IOException;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Removes what unfinished work left behind in a local store: upload folders no file of which
 * changed for the idle timeout, and temporary files as old. An upload whose writer is open, here
 * or in another store on the same folder, is never touched, however long it has been idle.
 */
final class IdleSweeper {

  private final LocalBlobStore store;
  private final Path uploads;
  private final Path tmp;
  private final Duration idleTimeout;
  private final Clock clock;

  IdleSweeper(LocalBlobStore store, Path uploads, Path tmp, Duration idleTimeout, Clock clock) {
    this.store = store;
    this.uploads = uploads;
    this.tmp = tmp;
    this.idleTimeout = idleTimeout;
    this.clock = clock;
  }

  /** Removes idle upload folders and stray temporary files; returns how many it removed. */
  int sweep() throws IOException {
    Instant cutoff = clock.instant().minus(idleTimeout);
    int removed = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
      for (Path f : files) {
        if (changedBefore(f, cutoff)) {
          Files.deleteIfExists(f);
          removed++;
        }
      }
    }
    try (DirectoryStream<Path> folders = Files.newDirectoryStream(uploads)) {
      for (Path folder : folders) {
        if (Files.isDirectory(folder) && changedBefore(folder, cutoff) && removeIfFree(folder)) {
          removed++;
        }
      }
    }
    return removed;
  }

  /** Deletes {@code folder} unless a writer holds it; checked and deleted under its lock. */
  private boolean removeIfFree(Path folder) throws IOException {
    synchronized (store.uploadLock(folder)) {
      if (store.isWriting(folder)) {
        return false;
      }
      FileLock hold;
      try {
        hold = store.holdUpload(folder);
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        // Not an upload folder this store made; leave it.
        return false;
      }
      if (hold == null) {
        return false;
      }
      try (Stream<Path> all = Files.walk(folder)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } finally {
        hold.release();
      }
      return true;
    }
  }

  /** Whether {@code path} and everything in it last changed before {@code cutoff}. */
  private static boolean changedBefore(Path path, Instant cutoff) throws IOException {
    try (Stream<Path> all = Files.walk(path)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        FileTime t = Files.getLastModifiedTime(p);
        if (!t.toInstant().isBefore(cutoff)) {
          return false;
        }
      }
      return true;
    } catch (NoSuchFileException | java.io.UncheckedIOException e) {
      return false;
    }
  }
}
