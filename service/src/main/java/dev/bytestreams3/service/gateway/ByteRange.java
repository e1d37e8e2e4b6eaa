package dev.bytestreams3.service.gateway;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One byte range of a {@code Range: bytes=...} header, resolved against the blob's size.
 *
 * @param first the first byte
 * @param length how many bytes from there
 */
record ByteRange(long first, long length) {

  private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

  long last() {
    return first + length - 1;
  }

  /** Thrown when the range lies wholly past the end: HTTP 416. */
  static final class Unsatisfiable extends Exception {
    Unsatisfiable() {
      super(null, null, false, false);
    }
  }

  /**
   * The range {@code header} asks for within {@code size} bytes; empty when there is no header, or
   * one this server does not take (several ranges, another unit, bad syntax), which per HTTP means
   * the whole blob.
   */
  static Optional<ByteRange> parse(String header, long size) throws Unsatisfiable {
    if (header == null) {
      return Optional.empty();
    }
    Matcher m = RANGE.matcher(header.trim());
    if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
      return Optional.empty();
    }
    try {
      if (m.group(1).isEmpty()) {
        long suffix = Long.parseLong(m.group(2));
        if (suffix == 0 || size == 0) {
          throw new Unsatisfiable();
        }
        long n = Math.min(suffix, size);
        return Optional.of(new ByteRange(size - n, n));
      }
      long first = Long.parseLong(m.group(1));
      if (first >= size) {
        throw new Unsatisfiable();
      }
      long last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
      if (last < first) {
        return Optional.empty();
      }
      return Optional.of(new ByteRange(first, last - first + 1));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
