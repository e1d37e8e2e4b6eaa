package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import dev.bytestreams3.storage.HashFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The digest functions this server verifies, by their resource-name spelling and their
 * {@link DigestFunction.Value}, and the rule for names and requests that omit the function: it is
 * inferred from the hash length among the functions that may be omitted.
 */
public final class DigestFunctions {

  private final Map<String, HashFunction> byName = new LinkedHashMap<>();
  private final Map<Integer, HashFunction> omittableByHexLength = new LinkedHashMap<>();

  /**
   * Builds the registry from {@code functions}; the first is the default. Each function's
   * {@link HashFunction#id()} upper-cased must name a {@link DigestFunction.Value}.
   */
  public DigestFunctions(List<HashFunction> functions, List<String> omittable) {
    requireNonNull(functions, "functions");
    if (functions.isEmpty()) {
      throw new IllegalArgumentException("functions is empty");
    }
    for (HashFunction f : functions) {
      valueOf(f);
      byName.put(f.id(), f);
      if (omittable.contains(f.id())) {
        omittableByHexLength.put(f.digestLength() * 2, f);
      }
    }
  }

  /** The functions in order, the default first. */
  public List<HashFunction> all() {
    return new ArrayList<>(byName.values());
  }

  /** The function spelled {@code name} in resource names, if verified here. */
  public Optional<HashFunction> byName(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The function whose name may be omitted and whose hex digest has {@code hexLength} digits. */
  public Optional<HashFunction> inferFromHexLength(int hexLength) {
    return Optional.ofNullable(omittableByHexLength.get(hexLength));
  }

  /** The wire value of {@code function}. */
  public static DigestFunction.Value valueOf(HashFunction function) {
    return DigestFunction.Value.valueOf(function.id().toUpperCase(Locale.ROOT));
  }

  /**
   * Validates {@code digest} of a request whose {@code digest_function} field is {@code value};
   * {@code UNKNOWN} (unset) infers the function from the hash length, as the API prescribes.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public BlobDigest resolve(DigestFunction.Value value, Digest digest) {
    String hash = digest.getHash();
    HashFunction function;
    if (value == DigestFunction.Value.UNKNOWN || value == null) {
      function =
          inferFromHexLength(hash.length())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "digest '" + hash + "/" + digest.getSizeBytes() + "' has a hash of "
                              + hash.length() + " characters, which matches no digest function"
                              + " of this server (supported: " + supported() + ")"));
    } else {
      function = function(value);
    }
    if (hash.length() != function.digestLength() * 2 || !isLowerHex(hash)) {
      throw new IllegalArgumentException(
          "digest hash '" + hash + "' (expected: " + function.digestLength() * 2
              + " lower-case hex digits for " + function.id() + ")");
    }
    if (digest.getSizeBytes() < 0) {
      throw new IllegalArgumentException(
          "digest " + hash + " has size_bytes " + digest.getSizeBytes() + " (expected: >= 0)");
    }
    return new BlobDigest(function, hash, digest.getSizeBytes());
  }

  /**
   * The function a request names, or the default when it names none.
   *
   * @throws IllegalArgumentException when the server does not verify that function
   */
  public HashFunction function(DigestFunction.Value value) {
    if (value == DigestFunction.Value.UNKNOWN) {
      return all().get(0);
    }
    HashFunction f =
        value == DigestFunction.Value.UNRECOGNIZED
            ? null
            : byName.get(value.name().toLowerCase(Locale.ROOT));
    if (f == null) {
      throw new IllegalArgumentException(
          "digest_function " + value + " is not supported by this server (supported: "
              + supported() + ")");
    }
    return f;
  }

  private String supported() {
    return String.join(", ", byName.keySet());
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return !s.isEmpty();
  }
}
