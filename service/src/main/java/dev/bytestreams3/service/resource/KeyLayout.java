package dev.bytestreams3.service.resource;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.HashFunction;

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
