package dev.bytestreams3.service.resource;

/**
 * Text a client sent, made fit to repeat in an error message or a log line: at most {@value
 * #MAX_CHARS} characters of it ({@value #MAX_LOG_CHARS} in a log), with every invisible or control character written as {@code
 * \\uXXXX}. A message quoting a 16,000-character name would no longer fit in gRPC's trailers, and
 * a bidi override could make a log line read backwards.
 */
public final class ClientText {

  /** Characters of a client's text quoted in a message at most: a long resource name whole. */
  public static final int MAX_CHARS = 256;

  /** Characters of a client's text written to a log field at most. */
  public static final int MAX_LOG_CHARS = 512;

  private ClientText() {}

  /** {@code text} in single quotes, cut and escaped; a cut says how long the whole was. */
  public static String quote(String text) {
    if (text.length() <= MAX_CHARS) {
      return "'" + escape(text, text.length()) + "'";
    }
    return "'" + escape(text, MAX_CHARS) + "...' (" + text.length() + " characters)";
  }

  /** {@code text} cut and escaped, without quotes, for a log field. */
  public static String excerpt(String text) {
    if (text.length() <= MAX_LOG_CHARS) {
      return escape(text, text.length());
    }
    return escape(text, MAX_LOG_CHARS) + "...(" + text.length() + " characters)";
  }

  /**
   * Whether {@code c} is a control (C0, DEL, C1 such as U+0085), format (bidi overrides and
   * isolates, zero-width characters, U+FEFF) or line or paragraph separator character.
   */
  public static boolean isInvisible(char c) {
    int type = Character.getType(c);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  private static String escape(String text, int chars) {
    StringBuilder b = new StringBuilder(chars + 8);
    for (int i = 0; i < chars; i++) {
      char c = text.charAt(i);
      if (isInvisible(c) || c == '\\' || Character.isSurrogate(c) && !pairedAt(text, i, chars)) {
        b.append(String.format("\\u%04X", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Whether the surrogate at {@code i} has its other half within the first {@code end} chars. */
  private static boolean pairedAt(String text, int i, int end) {
    char c = text.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
  }
}
