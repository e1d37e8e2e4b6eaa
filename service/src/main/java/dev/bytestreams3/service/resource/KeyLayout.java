package dev.bytestreams3.service.resource;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.HashFunction;
import java.util.Optional;

/**
 * Where each kind of resource lives in the store: content-addressed blobs at
 * {@code [instance/]cas/{function}/{hash}}, action results at {@code [instance/]ac/{function}/{hash}}
 * and plain objects at {@code objects/{name}}. Each instance is its own key prefix; instance names
 * may not begin with {@code objects}, so the two namespaces never meet.
 */
public final class KeyLayout {

  static final String OBJECTS = "objects";

  /** The key of a content-addressed blob. */
  public BlobKey casKey(String instance, HashFunction function, String hash) {
    return BlobKey.of(prefix(instance) + "cas/" + function.id() + "/" + hash);
  }

  /** The key of an action result. */
  public BlobKey actionResultKey(String instance, HashFunction function, String hash) {
    return BlobKey.of(prefix(instance) + "ac/" + function.id() + "/" + hash);
  }

  /** Where an action-result key points: the instance and the action digest's function and hash. */
  public record ActionResultAddress(String instance, String functionId, String hash) {}

  /** What {@code key} addresses when it is an action result's key; empty for any other key. */
  public Optional<ActionResultAddress> actionResultOf(BlobKey key) {
    String value = key.value();
    if (value.startsWith(OBJECTS + "/")) {
      return Optional.empty();
    }
    int hashAt = value.lastIndexOf('/');
    int functionAt = hashAt <= 0 ? -1 : value.lastIndexOf('/', hashAt - 1);
    if (functionAt < 2 || !value.startsWith("ac", functionAt - 2)) {
      return Optional.empty();
    }
    int kindAt = functionAt - 2;
    if (kindAt != 0 && value.charAt(kindAt - 1) != '/') {
      return Optional.empty();
    }
    return Optional.of(
        new ActionResultAddress(
            kindAt == 0 ? "" : value.substring(0, kindAt - 1),
            value.substring(functionAt + 1, hashAt),
            value.substring(hashAt + 1)));
  }

  /** The key of a plain object. */
  public BlobKey objectKey(String name) {
    return BlobKey.of(OBJECTS + "/" + name);
  }

  /** The key a resource name is stored at. */
  public BlobKey keyOf(ResourceName name) {
    return name.isBlob()
        ? casKey(name.instance(), name.function(), name.hash())
        : objectKey(name.objectName());
  }

  /**
   * Why {@code name} has no valid key in this layout, or {@code null} when it has one. A name
   * shorter than {@link BlobKey#MAX_BYTES} can still make a longer key with the layout's prefix.
   */
  String problemOf(ResourceName name) {
    String key =
        name.isBlob()
            ? prefix(name.instance()) + "cas/" + name.function().id() + "/" + name.hash()
            : OBJECTS + "/" + name.objectName();
    int bytes = key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > BlobKey.MAX_BYTES) {
      return "its store key would be " + bytes + " bytes (expected: <= " + BlobKey.MAX_BYTES
          + "; the key is the name after '" + OBJECTS + "/' for objects, the instance and '/cas/"
          + "{function}/{hash}' for blobs)";
    }
    String problem = BlobKey.problem(key);
    return problem == null ? null : "its store key is invalid: " + problem;
  }

  private static String prefix(String instance) {
    return instance.isEmpty() ? "" : instance + "/";
  }
}
