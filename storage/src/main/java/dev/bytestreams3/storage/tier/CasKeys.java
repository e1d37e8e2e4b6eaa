package dev.bytestreams3.storage.tier;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.HashFunction;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recognises the keys of content-addressed blobs, {@code [instance/]cas/{function}/{hash}}, and the
 * digest their bytes must hash to. Object keys begin with {@code objects/}, which no instance may,
 * and action results live under {@code ac/}: neither is ever a CAS key.
 */
public final class CasKeys {

  private final Map<String, HashFunction> functions = new LinkedHashMap<>();

  /** Recognises CAS keys of {@code functions}; keys of any other function are not tiered. */
  public CasKeys(List<? extends HashFunction> functions) {
    requireNonNull(functions, "functions");
    for (HashFunction f : functions) {
      this.functions.put(f.id(), f);
    }
  }

  /** The digest the blob at {@code key} must have, or empty when {@code key} is no CAS key. */
  public Optional<ContentCheck> checkOf(BlobKey key) {
    String[] segments = key.value().split("/");
    int n = segments.length;
    if (n < 3 || segments[0].equals("objects") || !segments[n - 3].equals("cas")) {
      return Optional.empty();
    }
    HashFunction f = functions.get(segments[n - 2]);
    String hash = segments[n - 1];
    if (f == null || hash.length() != f.digestLength() * 2 || !isLowerHex(hash)) {
      return Optional.empty();
    }
    return Optional.of(new ContentCheck(f, HexFormat.of().parseHex(hash)));
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
