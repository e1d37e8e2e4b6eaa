package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.HashFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The digest functions this server verifies, by their resource-name spelling, and the rule for
 * names that omit the function: the function is inferred from the hash length among those of the
 * functions that may be omitted.
 */
public final class DigestFunctions {

  private final Map<String, HashFunction> byName = new LinkedHashMap<>();
  private final Map<Integer, HashFunction> omittableByHexLength = new LinkedHashMap<>();

  /** Builds the registry from {@code functions}; the first is the default. */
  public DigestFunctions(List<HashFunction> functions, List<String> omittable) {
    requireNonNull(functions, "functions");
    if (functions.isEmpty()) {
      throw new IllegalArgumentException("functions is empty");
    }
    for (HashFunction f : functions) {
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
}
