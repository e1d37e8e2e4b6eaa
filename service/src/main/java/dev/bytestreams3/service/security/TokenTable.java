package dev.bytestreams3.service.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer tokens a server accepts and what each may do, parsed from a token file. Tokens are
 * kept only as SHA-256 digests, so the table never holds a token itself.
 *
 * <p>One grant per line: {@code <token> <read|read-write> <prefix> [<prefix> ...]}. A token
 * written {@code sha256:<hex>} is given by its digest. A prefix covers an instance name (or, for
 * plain objects, an object name) equal to it or below it, segment by segment; {@code *} covers
 * every name and {@code ""} the empty instance name. Blank lines and lines starting with {@code #}
 * are skipped. A token listed on several lines has all their grants.
 */
public final class TokenTable {

  /** Shortest token accepted in clear, so that guessing one is hopeless. */
  static final int MIN_TOKEN_CHARS = 16;

  private static final Pattern HEX_DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Map<String, Grants> byDigest;

  private TokenTable(Map<String, Grants> byDigest) {
    this.byDigest = Map.copyOf(byDigest);
  }

  /**
   * Parses the lines of a token file.
   *
   * @throws IllegalArgumentException naming the line and the problem, never a token
   */
  public static TokenTable parse(List<String> lines) {
    Map<String, List<Grant>> grants = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] words = line.split("\\s+");
      try {
        if (words.length < 3) {
          throw new IllegalArgumentException(
              "expected '<token> <read|read-write> <prefix> ...', found " + words.length
                  + " words");
        }
        String digest = digestOf(words[0]);
        Right right = Right.parse(words[1]);
        List<Grant> list = grants.computeIfAbsent(digest, d -> new ArrayList<>());
        for (int w = 2; w < words.length; w++) {
          list.add(new Grant(prefix(words[w]), right));
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    Map<String, Grants> table = new HashMap<>();
    grants.forEach((d, g) -> table.put(d, new Grants(List.copyOf(g))));
    return new TokenTable(table);
  }

  /** How many distinct tokens the table holds. */
  public int size() {
    return byDigest.size();
  }

  /** The grants of {@code token}; empty when the token is unknown. */
  public Optional<Grants> grantsOf(String token) {
    return Optional.ofNullable(byDigest.get(sha256(token)));
  }

  private static String digestOf(String token) {
    if (token.startsWith("sha256:")) {
      String hex = token.substring("sha256:".length());
      if (!HEX_DIGEST.matcher(hex).matches()) {
        throw new IllegalArgumentException("a sha256: token needs 64 lower-case hex digits");
      }
      return hex;
    }
    if (token.length() < MIN_TOKEN_CHARS) {
      throw new IllegalArgumentException(
          "a token needs at least " + MIN_TOKEN_CHARS + " characters");
    }
    return sha256(token);
  }

  private static String prefix(String word) {
    if (word.equals("*")) {
      return null;
    }
    if (word.equals("\"\"")) {
      return "";
    }
    String p = word;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    if (p.isEmpty() || p.startsWith("/")) {
      throw new IllegalArgumentException(
          "prefix '" + word + "' (expected: an instance name, \"\" or *)");
    }
    return p;
  }

  static String sha256(String token) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** One prefix and the right on it; a {@code null} prefix covers every name. */
  record Grant(String prefix, Right right) {
    boolean covers(String name) {
      if (prefix == null) {
        return true;
      }
      if (prefix.isEmpty()) {
        return name.isEmpty();
      }
      return name.equals(prefix) || name.startsWith(prefix + "/");
    }
  }

  /** Everything one token may do. */
  public static final class Grants {
    private final List<Grant> grants;

    private Grants(List<Grant> grants) {
      this.grants = grants;
    }

    /** Whether these grants allow {@code access} to some name. */
    boolean allowsAnywhere(Right.Access access) {
      for (Grant g : grants) {
        if (g.right().covers(access)) {
          return true;
        }
      }
      return false;
    }

    /** Whether these grants allow {@code access} to {@code name}. */
    boolean allow(String name, Right.Access access) {
      for (Grant g : grants) {
        if (g.covers(name) && g.right().covers(access)) {
          return true;
        }
      }
      return false;
    }
  }
}
