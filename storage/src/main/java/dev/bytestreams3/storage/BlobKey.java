package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

/**
 * A validated store-relative key such as {@code main/cas/sha256/ab12...}: slash-separated
 * segments, none empty, none {@code .} or {@code ..}, no control, format (bidi, zero-width) or
 * separator characters, no unpaired surrogates, no backslash, at most
 * {@value #MAX_BYTES} UTF-8 bytes. Stores place it under their own prefix.
 */
public final class BlobKey implements Comparable<BlobKey> {

  /** The longest key accepted, leaving room under S3's 1024-byte limit for a store prefix. */
  public static final int MAX_BYTES = 900;

  private final String value;

  private BlobKey(String value) {
    this.value = value;
  }

  /**
   * Returns the key for {@code value}.
   *
   * @throws IllegalArgumentException naming the problem when {@code value} is not a valid key
   */
  public static BlobKey of(String value) {
    requireNonNull(value, "value");
    String problem = problem(value);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    return new BlobKey(value);
  }

  /** Returns why {@code value} is not a valid key, or {@code null} when it is one. */
  public static String problem(String value) {
    if (value.isEmpty()) {
      return "key is empty";
    }
    int bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      return "key is " + bytes + " bytes long (expected: <= " + MAX_BYTES + ")";
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      String kind = kindOf(c);
      if (kind != null) {
        return "key contains " + String.format("U+%04X", (int) c) + ", " + kind + ", at index " + i;
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
        continue;
      }
      if (Character.isSurrogate(c)) {
        return "key contains an unpaired surrogate " + String.format("U+%04X", (int) c)
            + " at index " + i;
      }
      if (c == '\\') {
        return "key contains a backslash at index " + i;
      }
    }
    for (String segment : value.split("/", -1)) {
      if (segment.isEmpty()) {
        return "key has an empty segment";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "key has a '" + segment + "' segment";
      }
    }
    return null;
  }

  /**
   * What kind of character that may not appear in a key {@code c} is, or {@code null} when it may
   * appear: control characters (C0, DEL, C1 such as U+0085), format characters (bidi overrides and
   * isolates U+202A..U+202E and U+2066..U+2069, zero-width U+200B..U+200D, U+FEFF) and line or
   * paragraph separators make a name read other than it is.
   */
  private static String kindOf(char c) {
    switch (Character.getType(c)) {
      case Character.CONTROL:
        return "a control character";
      case Character.FORMAT:
        return "an invisible format character (bidi control or zero-width)";
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
        return "a line or paragraph separator";
      default:
        return null;
    }
  }

  /** Returns a key made of this key, a slash and {@code child}. */
  public BlobKey resolve(String child) {
    return of(value + "/" + child);
  }

  /** The key as a string. */
  public String value() {
    return value;
  }

  @Override
  public int compareTo(BlobKey other) {
    return value.compareTo(other.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlobKey && ((BlobKey) o).value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value;
  }
}
