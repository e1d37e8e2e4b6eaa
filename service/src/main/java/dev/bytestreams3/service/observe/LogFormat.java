package dev.bytestreams3.service.observe;

import java.util.Locale;
import java.util.Map;

/** How a log line is written: {@code key=value} pairs for people, or one JSON object per line. */
public enum LogFormat {
  TEXT {
    @Override
    String line(Map<String, ?> fields) {
      StringBuilder b = new StringBuilder();
      for (Map.Entry<String, ?> e : fields.entrySet()) {
        if (b.length() > 0) {
          b.append(' ');
        }
        b.append(e.getKey()).append('=');
        Object v = e.getValue();
        if (v instanceof Number || v instanceof Boolean) {
          b.append(v);
        } else {
          appendText(b, String.valueOf(v));
        }
      }
      return b.toString();
    }
  },
  JSON {
    @Override
    String line(Map<String, ?> fields) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<String, ?> e : fields.entrySet()) {
        if (b.length() > 1) {
          b.append(',');
        }
        appendJsonString(b, e.getKey());
        b.append(':');
        Object v = e.getValue();
        if (v instanceof Number || v instanceof Boolean) {
          b.append(v);
        } else {
          appendJsonString(b, String.valueOf(v));
        }
      }
      return b.append('}').toString();
    }
  };

  /** One line (without the line break) holding {@code fields} in their order. */
  abstract String line(Map<String, ?> fields);

  /** The format a {@code --log-format} value names. */
  public static LogFormat parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--log-format: '" + name + "' (expected: text or json)", e);
    }
  }

  private static void appendText(StringBuilder b, String s) {
    boolean quote = s.isEmpty();
    for (int i = 0; i < s.length() && !quote; i++) {
      char c = s.charAt(i);
      quote = c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
    }
    if (!quote) {
      b.append(s);
      return;
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < ' ' || c == 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }

  private static void appendJsonString(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < ' ' || c == 0x7f || c == '\u2028' || c == '\u2029') {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
