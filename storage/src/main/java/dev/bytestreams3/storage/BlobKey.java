package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

/**
 * A validated store-relative key such as {@code main/cas/sha256/ab12...}: slash-separated
 * segments, none empty, none {@code .} or {@code ..}, no control characters, no backslash, at most
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
      if (c < 0x20 || c == 0x7f) {
        return "key contains a control character at index " + i;
      }
      if (c == '\\') {
        return "key contains a backslash at index " + i;
      }
    }
    for (String segment : value.split("/", -1)) {
      if (segment.isEmpty()) {
        return "key '" + value + "' has an empty segment";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "key '" + value + "' has a '" + segment + "' segment";
      }
    }
    return null;
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
