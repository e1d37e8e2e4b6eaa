package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The Remote Execution API instance an S3 request serves, as a metric label of bounded
 * cardinality. The instance is read from the blob key ({@code [instance/]cas/{function}/{hash}} or
 * {@code [instance/]ac/...}) after the store's key prefix: an instance of the served list ({@code
 * --instance-names}) is its own label; without a list, the first {@link #MAX_UNLISTED} instances
 * seen are; any other is {@code other}. The unnamed instance is {@code (unnamed)}, plain objects
 * are {@code (objects)}, and requests for no blob (the store's start-up probe, listings of upload
 * records) are {@code (none)}.
 */
final class S3RequestInstances {

  /** Instances labelled by name when no list of served instances is configured. */
  static final int MAX_UNLISTED = 20;

  static final String OTHER = "other";
  static final String UNNAMED = "(unnamed)";
  static final String OBJECTS = "(objects)";
  static final String NONE = "(none)";

  private final String prefix;
  private final Optional<Set<String>> served;
  // Guarded by this.
  private final Set<String> seen = new HashSet<>();

  /**
   * @param keyPrefix the store's key prefix ({@code --prefix})
   * @param served the instances served, or empty when every one is
   */
  S3RequestInstances(String keyPrefix, Optional<Set<String>> served) {
    requireNonNull(keyPrefix, "keyPrefix");
    this.prefix = keyPrefix.isEmpty() || keyPrefix.endsWith("/") ? keyPrefix : keyPrefix + "/";
    this.served = requireNonNull(served, "served").map(Set::copyOf);
  }

  /** The label of a request for the S3 object {@code s3Key} (null: a request for no object). */
  String ofS3Key(String s3Key) {
    if (s3Key == null || !s3Key.startsWith(prefix)) {
      return NONE;
    }
    return ofBlobKey(s3Key.substring(prefix.length()));
  }

  /** The label of a request for the blob at {@code blobKey}, the key without the store's prefix. */
  String ofBlobKey(String blobKey) {
    if (blobKey.startsWith("objects/")) {
      return OBJECTS;
    }
    String[] segments = blobKey.split("/", -1);
    int n = segments.length;
    if (n < 3 || !(segments[n - 3].equals("cas") || segments[n - 3].equals("ac"))) {
      return NONE;
    }
    String instance = String.join("/", Arrays.copyOf(segments, n - 3));
    return bounded(instance);
  }

  private String bounded(String instance) {
    if (served.isPresent()) {
      if (!served.get().contains(instance)) {
        return OTHER;
      }
    } else {
      synchronized (this) {
        if (!seen.contains(instance)) {
          if (seen.size() >= MAX_UNLISTED) {
            return OTHER;
          }
          seen.add(instance);
        }
      }
    }
    return instance.isEmpty() ? UNNAMED : instance;
  }
}
