package dev.bytestreams3.it;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression (or a Grafana query such as {@code label_values(m, l)})
 * reads: every identifier that is not a function, keyword, label name or label value.
 */
final class PromQlMetricNames {

  private static final Set<String> KEYWORDS =
      Set.of(
          "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
          "unless", "offset", "inf", "nan");
  private static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
  private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*\\}");
  private static final Pattern RANGES = Pattern.compile("\\[[^\\]]*\\]");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern LABEL_VALUES =
      Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,[^)]*\\)");
  private static final Pattern VARIABLES = Pattern.compile("\\$\\{[^}]*\\}|\\$\\w+");
  private static final Pattern IDENTIFIER =
      Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?!\\w)(\\s*\\()?");

  private PromQlMetricNames() {}

  static Set<String> in(String expression) {
    Set<String> names = new TreeSet<>();
    String e = expression;
    Matcher lv = LABEL_VALUES.matcher(e);
    while (lv.find()) {
      names.add(lv.group(1));
    }
    e = LABEL_VALUES.matcher(e).replaceAll(" ");
    e = STRINGS.matcher(e).replaceAll(" ");
    e = MATCHERS.matcher(e).replaceAll(" ");
    e = RANGES.matcher(e).replaceAll(" ");
    e = GROUPING.matcher(e).replaceAll(" ");
    e = VARIABLES.matcher(e).replaceAll(" ");
    Matcher m = IDENTIFIER.matcher(e);
    while (m.find()) {
      boolean function = m.group(2) != null;
      if (!function && !KEYWORDS.contains(m.group(1).toLowerCase())) {
        names.add(m.group(1));
      }
    }
    return names;
  }
}
