package dev.bytestreams3.storage;

import java.util.Locale;

/** A byte count as people read it in a log line: {@code 512 bytes}, {@code 50 GiB}, {@code 49.7 GiB}. */
public final class ByteSize {

  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB"};

  private ByteSize() {}

  /** {@code bytes} in the largest binary unit it fills at least once, one decimal when inexact. */
  public static String text(long bytes) {
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    int unit = 0;
    long scale = 1024;
    while (unit < UNITS.length - 1 && bytes / scale >= 1024) {
      scale *= 1024;
      unit++;
    }
    if (bytes % scale == 0) {
      return bytes / scale + " " + UNITS[unit];
    }
    return String.format(Locale.ROOT, "%.1f %s", (double) bytes / scale, UNITS[unit]);
  }
}
