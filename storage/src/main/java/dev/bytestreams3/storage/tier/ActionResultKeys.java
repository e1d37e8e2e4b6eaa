package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;

/**
 * Recognises the keys of action results, {@code [instance/]ac/{function}/{hash}}. Object keys
 * begin with {@code objects/}, which no instance may, so none of them is an action result.
 */
final class ActionResultKeys {

  private ActionResultKeys() {}

  /** Whether {@code key} names an action result. */
  static boolean isActionResult(BlobKey key) {
    String[] segments = key.value().split("/");
    int n = segments.length;
    return n >= 3 && !segments[0].equals("objects") && segments[n - 3].equals("ac");
  }
}
