package dev.bytestreams3.service.security;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A token file, read again when it changes: at most once per {@link #CHECK_INTERVAL}, the file's
 * modification time and size are compared with the last read. A file that no longer parses
 * leaves the previous table in force, and the problem is reported (never a token).
 */
public final class TokenFile {

  /** How often the file is looked at. */
  static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);

  private final Path path;
  private final Consumer<String> notices;
  private TokenTable table;
  private Object version;
  private long lastCheckNanos;

  private TokenFile(Path path, Consumer<String> notices, TokenTable table, Object version) {
    this.path = path;
    this.notices = notices;
    this.table = table;
    this.version = version;
    this.lastCheckNanos = System.nanoTime();
  }

  /**
   * Reads {@code path}; later notices with it are passed to {@code notices}.
   *
   * @throws IllegalArgumentException when the file cannot be read or parsed now
   */
  public static TokenFile open(Path path, Consumer<String> notices) {
    requireNonNull(path, "path");
    requireNonNull(notices, "notices");
    try {
      Object version = versionOf(path);
      return new TokenFile(path, notices, read(path), version);
    } catch (IOException e) {
      throw new IllegalArgumentException("--token-file: cannot read " + path + ": " + e, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--token-file " + path + ", " + e.getMessage(), e);
    }
  }

  /** The table in force, read again first if the file changed. */
  public synchronized TokenTable table() {
    long now = System.nanoTime();
    if (now - lastCheckNanos >= CHECK_INTERVAL.toNanos()) {
      lastCheckNanos = now;
      reloadIfChanged();
    }
    return table;
  }

  private void reloadIfChanged() {
    try {
      Object v = versionOf(path);
      if (Objects.equals(v, version)) {
        return;
      }
      TokenTable t = read(path);
      table = t;
      version = v;
      notices.accept("token file " + path + " reloaded: " + t.size() + " tokens");
    } catch (IOException e) {
      notices.accept("token file " + path + " cannot be read, keeping the previous tokens: " + e);
    } catch (IllegalArgumentException e) {
      notices.accept(
          "token file " + path + " is invalid, keeping the previous tokens: " + e.getMessage());
    }
  }

  private static TokenTable read(Path path) throws IOException {
    return TokenTable.parse(Files.readAllLines(path, StandardCharsets.UTF_8));
  }

  /** What tells one version of the file from another. */
  private static Object versionOf(Path path) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
    FileTime modified = a.lastModifiedTime();
    return modified.toString() + "/" + a.size() + "/" + a.fileKey();
  }
}
