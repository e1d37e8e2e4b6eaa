package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.resource.ResourceName.Kind;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.HashFunction;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Parses ByteStream resource names. Names with a {@code blobs}, {@code compressed-blobs} or
 * {@code uploads} segment are Remote Execution API names and must be well formed; every other name
 * is a plain object name. Every failure is an {@link IllegalArgumentException} that names the
 * problem.
 */
public final class ResourceNameParser {

  /** Segments that may not appear in an instance name. */
  static final Set<String> RESERVED =
      Set.of(
          "blobs", "uploads", "actions", "actionResults", "operations", "capabilities",
          "compressed-blobs");

  static final Set<String> KNOWN_COMPRESSORS = Set.of("identity", "zstd", "deflate", "brotli");

  private static final KeyLayout LAYOUT = new KeyLayout();

  private final DigestFunctions digests;
  private final Instances instances;

  /** A parser of names in every well-formed instance. */
  public ResourceNameParser(DigestFunctions digests) {
    this(digests, Instances.any());
  }

  /** A parser of names in the instances {@code instances} serves. */
  public ResourceNameParser(DigestFunctions digests, Instances instances) {
    this.digests = requireNonNull(digests, "digests");
    this.instances = requireNonNull(instances, "instances");
  }

  /** Parses {@code name}; throws {@link IllegalArgumentException} naming what is wrong. */
  public ResourceName parse(String name) {
    requireNonNull(name, "name");
    ResourceName parsed = parseShape(name);
    // A name within the key limit may still make a key past it once the store's layout adds its
    // prefix ('objects/', or 'cas/{function}/' after the instance): refuse it here, as a name.
    String keyProblem = LAYOUT.problemOf(parsed);
    if (keyProblem != null) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " is invalid: " + keyProblem);
    }
    return parsed;
  }

  private ResourceName parseShape(String name) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("resource_name is empty");
    }
    String keyProblem = BlobKey.problem(name);
    if (keyProblem != null) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " is invalid: " + keyProblem.replace("key", "name"));
    }
    List<String> s = Arrays.asList(name.split("/", -1));
    int uploads = s.indexOf("uploads");
    int blobs = firstOf(s, "blobs", "compressed-blobs");
    if (uploads >= 0 && (blobs < 0 || uploads < blobs)) {
      if (uploads + 2 >= s.size()) {
        throw new IllegalArgumentException(
            "resource_name " + ClientText.quote(name) + " has no '{uuid}/blobs/...' after 'uploads'");
      }
      String uuid = s.get(uploads + 1);
      if (!s.get(uploads + 2).equals("blobs") && !s.get(uploads + 2).equals("compressed-blobs")) {
        throw new IllegalArgumentException(
            "resource_name " + ClientText.quote(name) + " expected 'blobs' or 'compressed-blobs' after 'uploads/{uuid}'");
      }
      return blob(name, Kind.BLOB_UPLOAD, s, uploads, uuid, uploads + 2, true);
    }
    if (blobs >= 0) {
      return blob(name, Kind.BLOB, s, blobs, "", blobs, false);
    }
    return new ResourceName(Kind.OBJECT, "", "", Optional.empty(), null, "", -1, name);
  }

  private ResourceName blob(
      String name, Kind kind, List<String> s, int instanceEnd, String uuid, int at,
      boolean allowMetadata) {
    String instance = instance(name, s.subList(0, instanceEnd));
    int i = at + 1;
    Optional<String> compressor = Optional.empty();
    if (s.get(at).equals("compressed-blobs")) {
      if (i >= s.size()) {
        throw new IllegalArgumentException("resource_name " + ClientText.quote(name) + " has no compressor");
      }
      String c = s.get(i++);
      if (!KNOWN_COMPRESSORS.contains(c)) {
        throw new IllegalArgumentException(
            "resource_name " + ClientText.quote(name) + " names unknown compressor " + ClientText.quote(c));
      }
      compressor = Optional.of(c);
    }
    List<String> rest = s.subList(i, s.size());
    if (rest.size() < 2) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " expected '{hash}/{size}' after '" + s.get(at) + "'");
    }
    HashFunction function;
    String hash;
    String sizeText;
    int consumed;
    Optional<HashFunction> named = digests.byName(rest.get(0));
    if (named.isPresent() && rest.size() >= 3 && !isHex(rest.get(0))) {
      function = named.get();
      hash = rest.get(1);
      sizeText = rest.get(2);
      consumed = 3;
    } else if (!isHex(rest.get(0)) && rest.size() >= 3 && isHex(rest.get(1))) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " names digest function " + ClientText.quote(rest.get(0))
              + ", which this server does not support (supported: " + supported() + ")");
    } else {
      hash = rest.get(0);
      sizeText = rest.get(1);
      consumed = 2;
      if (!isHex(hash)) {
        throw new IllegalArgumentException(
            "resource_name " + ClientText.quote(name) + " has hash " + ClientText.quote(hash) + ", which is not lower-case hex");
      }
      function =
          digests
              .inferFromHexLength(hash.length())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "resource_name " + ClientText.quote(name) + " has a hash of " + hash.length()
                              + " hex digits, which matches no digest function of this server"
                              + " (supported: " + supported() + ")"));
    }
    if (!isHex(hash) || hash.length() != function.digestLength() * 2) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " has hash " + ClientText.quote(hash) + " (expected: "
              + function.digestLength() * 2 + " lower-case hex digits for " + function.id() + ")");
    }
    long size = parseSize(name, sizeText);
    if (rest.size() > consumed && !allowMetadata) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " has extra segments after the size");
    }
    return new ResourceName(kind, instance, uuid, compressor, function, hash, size, "");
  }

  private String instance(String name, List<String> segments) {
    for (String seg : segments) {
      if (RESERVED.contains(seg)) {
        throw new IllegalArgumentException(
            "resource_name " + ClientText.quote(name) + " has reserved word '" + seg + "' in its instance name");
      }
    }
    if (!segments.isEmpty() && segments.get(0).equals(KeyLayout.OBJECTS)) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + ": an instance name may not begin with '"
              + KeyLayout.OBJECTS + "'");
    }
    return instances.check(String.join("/", segments));
  }

  private static long parseSize(String name, String text) {
    if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " has size " + ClientText.quote(text) + " (expected: a non-negative integer)");
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "resource_name " + ClientText.quote(name) + " has size " + ClientText.quote(text) + " (expected: a non-negative integer)");
    }
  }

  private String supported() {
    return String.join(", ", digests.all().stream().map(HashFunction::id).toList());
  }

  private static int firstOf(List<String> s, String a, String b) {
    for (int i = 0; i < s.size(); i++) {
      if (s.get(i).equals(a) || s.get(i).equals(b)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isHex(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

}
