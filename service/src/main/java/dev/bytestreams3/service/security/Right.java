package dev.bytestreams3.service.security;

import java.util.Locale;

/** What a token may do with the names a grant covers. */
public enum Right {
  /** Read blobs, action results and objects, and ask about uploads. */
  READ,
  /** Everything {@link #READ} allows, and write. */
  READ_WRITE;

  /** Whether this right covers {@code access}. */
  boolean covers(Access access) {
    return access == Access.READ || this == READ_WRITE;
  }

  /** The right a token file names: {@code read} or {@code read-write}. */
  static Right parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "read" -> READ;
      case "read-write" -> READ_WRITE;
      default -> throw new IllegalArgumentException(
          "right '" + s + "' (expected: read or read-write)");
    };
  }

  /** The access a call needs on the name it acts on. */
  enum Access {
    READ,
    WRITE
  }
}
