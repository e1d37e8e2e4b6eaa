package dev.bytestreams3.service.resource;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which instance names this server serves: every well-formed one, or those of an allow-list. An
 * instance name is a key prefix, so it must be a valid key path without reserved segments.
 */
public final class Instances {

  private final Optional<Set<String>> allowed;

  /** @param allowed the names served, or empty for every well-formed name */
  public Instances(Optional<Set<String>> allowed) {
    this.allowed = requireNonNull(allowed, "allowed");
  }

  /** Serves every well-formed instance name. */
  public static Instances any() {
    return new Instances(Optional.empty());
  }

  /**
   * Checks {@code instance}, returning it.
   *
   * @throws IllegalArgumentException naming the problem
   */
  public String check(String instance) {
    requireNonNull(instance, "instance");
    if (!instance.isEmpty()) {
      String problem = BlobKey.problem(instance);
      if (problem != null) {
        throw new IllegalArgumentException(
            "instance_name " + ClientText.quote(instance) + " is invalid: " + problem.replace("key", "name"));
      }
      for (String segment : instance.split("/")) {
        if (ResourceNameParser.RESERVED.contains(segment)) {
          throw new IllegalArgumentException(
              "instance_name " + ClientText.quote(instance) + " has reserved word '" + segment + "'");
        }
      }
      if (instance.equals(KeyLayout.OBJECTS) || instance.startsWith(KeyLayout.OBJECTS + "/")) {
        throw new IllegalArgumentException(
            "instance_name " + ClientText.quote(instance) + " may not begin with '" + KeyLayout.OBJECTS + "'");
      }
    }
    if (allowed.isPresent() && !allowed.get().contains(instance)) {
      throw new IllegalArgumentException(
          "instance_name " + ClientText.quote(instance) + " is not served here (served: "
              + String.join(", ", new TreeSet<>(allowed.get()).stream()
                  .map(n -> n.isEmpty() ? "'' (unnamed)" : "'" + n + "'").toList())
              + ")");
    }
    return instance;
  }
}
