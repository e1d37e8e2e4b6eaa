package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code google.api.http} path template such as {@code /v1/{resource_name=**}:read}: literal
 * segments, {@code *} (one segment), {@code **} (any number of segments), variables binding a
 * field path to one or more segments, and an optional {@code :verb}.
 */
final class PathTemplate {

  private enum Kind { LITERAL, ONE, ANY }

  private record Element(Kind kind, String literal) {}

  private record Variable(String fieldPath, int from, int to) {}

  private final String text;
  private final List<Element> elements;
  private final List<Variable> variables;
  private final String verb;

  private PathTemplate(String text, List<Element> elements, List<Variable> variables, String verb) {
    this.text = text;
    this.elements = elements;
    this.variables = variables;
    this.verb = verb;
  }

  /**
   * Parses {@code template}.
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  static PathTemplate parse(String template) {
    requireNonNull(template, "template");
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("path template '" + template + "' does not start with '/'");
    }
    String body = template.substring(1);
    String verb = null;
    int depth = 0;
    int lastSlash = -1;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == '/' && depth == 0) {
        lastSlash = i;
      } else if (c == ':' && depth == 0 && i > lastSlash) {
        verb = body.substring(i + 1);
        body = body.substring(0, i);
        break;
      }
    }
    if (verb != null && (verb.isEmpty() || verb.contains("/"))) {
      throw new IllegalArgumentException("path template '" + template + "' has a malformed verb");
    }
    List<Element> elements = new ArrayList<>();
    List<Variable> variables = new ArrayList<>();
    for (String segment : splitTopLevel(body, template)) {
      if (segment.startsWith("{")) {
        if (!segment.endsWith("}")) {
          throw new IllegalArgumentException("path template '" + template + "' has an unclosed '{'");
        }
        String inner = segment.substring(1, segment.length() - 1);
        int eq = inner.indexOf('=');
        String field = eq < 0 ? inner : inner.substring(0, eq);
        String pattern = eq < 0 ? "*" : inner.substring(eq + 1);
        if (!field.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*")) {
          throw new IllegalArgumentException(
              "path template '" + template + "' has a bad field path '" + field + "'");
        }
        int from = elements.size();
        for (String p : pattern.split("/", -1)) {
          elements.add(element(p, template));
        }
        variables.add(new Variable(field, from, elements.size()));
      } else {
        elements.add(element(segment, template));
      }
    }
    long deep = elements.stream().filter(e -> e.kind == Kind.ANY).count();
    if (deep > 1) {
      throw new IllegalArgumentException("path template '" + template + "' has more than one '**'");
    }
    return new PathTemplate(template, List.copyOf(elements), List.copyOf(variables), verb);
  }

  private static List<String> splitTopLevel(String body, String template) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == '/' && depth == 0) {
        out.add(body.substring(start, i));
        start = i + 1;
      }
    }
    if (depth != 0) {
      throw new IllegalArgumentException("path template '" + template + "' has unbalanced braces");
    }
    out.add(body.substring(start));
    return out;
  }

  private static Element element(String s, String template) {
    if (s.equals("*")) {
      return new Element(Kind.ONE, null);
    }
    if (s.equals("**")) {
      return new Element(Kind.ANY, null);
    }
    if (s.isEmpty() || s.contains("{") || s.contains("}") || s.contains("*")) {
      throw new IllegalArgumentException(
          "path template '" + template + "' has a bad segment '" + s + "'");
    }
    return new Element(Kind.LITERAL, s);
  }

  /** The field paths of this template's variables, in order. */
  List<String> fieldPaths() {
    return variables.stream().map(Variable::fieldPath).toList();
  }

  /**
   * Matches a request path (still percent-encoded, without its query) and returns the variables it
   * binds, percent-decoded; empty when it does not match.
   */
  Optional<Map<String, String>> match(String rawPath) {
    if (!rawPath.startsWith("/")) {
      return Optional.empty();
    }
    String path = rawPath.substring(1);
    if (verb != null) {
      String suffix = ":" + verb;
      if (!path.endsWith(suffix)) {
        return Optional.empty();
      }
      path = path.substring(0, path.length() - suffix.length());
    }
    String[] raw = path.isEmpty() ? new String[0] : path.split("/", -1);
    String[] segments = new String[raw.length];
    for (int i = 0; i < raw.length; i++) {
      segments[i] = URLDecoder.decode(raw[i].replace("+", "%2B"), StandardCharsets.UTF_8);
    }
    int[] starts = new int[elements.size() + 1];
    if (!matchFrom(0, 0, segments, starts)) {
      return Optional.empty();
    }
    Map<String, String> bound = new LinkedHashMap<>();
    for (Variable v : variables) {
      bound.put(v.fieldPath, String.join("/", List.of(segments).subList(starts[v.from], starts[v.to])));
    }
    return Optional.of(bound);
  }

  private boolean matchFrom(int e, int s, String[] segments, int[] starts) {
    starts[e] = s;
    if (e == elements.size()) {
      return s == segments.length;
    }
    Element el = elements.get(e);
    switch (el.kind) {
      case LITERAL:
        return s < segments.length && segments[s].equals(el.literal)
            && matchFrom(e + 1, s + 1, segments, starts);
      case ONE:
        return s < segments.length && !segments[s].isEmpty()
            && matchFrom(e + 1, s + 1, segments, starts);
      default:
        // '**' takes as many segments as it can while the rest still matches.
        for (int end = segments.length; end >= s; end--) {
          if (matchFrom(e + 1, end, segments, starts)) {
            starts[e] = s;
            return true;
          }
        }
        return false;
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
