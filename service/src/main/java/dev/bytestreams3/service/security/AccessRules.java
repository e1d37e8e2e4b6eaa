package dev.bytestreams3.service.security;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.observe.RequestTarget;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.service.resource.ResourceNameParser;
import java.util.Map;
import java.util.Optional;

/**
 * What each method needs from a token, and the name a request acts on. A method missing from the
 * table is refused to every token, so a service added later is closed until it is listed here.
 */
final class AccessRules {

  /** What a method needs. */
  enum Need {
    /** Nothing: anyone may call it (health checks). */
    NOTHING,
    /** A known token, whatever its grants (reflection). */
    ANY_TOKEN,
    /** A grant to read the name the request acts on. */
    READ,
    /** A grant to write the name the request acts on. */
    WRITE,
    /** Not callable with token authentication on. */
    UNLISTED
  }

  private static final String REAPI = "build.bazel.remote.execution.v2.";

  private static final Map<String, Need> METHODS =
      Map.ofEntries(
          Map.entry("google.bytestream.ByteStream/Read", Need.READ),
          Map.entry("google.bytestream.ByteStream/Write", Need.WRITE),
          Map.entry("google.bytestream.ByteStream/QueryWriteStatus", Need.READ),
          Map.entry(REAPI + "ContentAddressableStorage/FindMissingBlobs", Need.READ),
          Map.entry(REAPI + "ContentAddressableStorage/BatchReadBlobs", Need.READ),
          Map.entry(REAPI + "ContentAddressableStorage/GetTree", Need.READ),
          Map.entry(REAPI + "ContentAddressableStorage/BatchUpdateBlobs", Need.WRITE),
          // Not implemented here: listed so that a token holder hears UNIMPLEMENTED, as the
          // capabilities say, rather than a refusal that suggests another token would do.
          Map.entry(REAPI + "ContentAddressableStorage/SplitBlob", Need.READ),
          Map.entry(REAPI + "ContentAddressableStorage/SpliceBlob", Need.WRITE),
          Map.entry(REAPI + "ActionCache/GetActionResult", Need.READ),
          Map.entry(REAPI + "ActionCache/UpdateActionResult", Need.WRITE),
          Map.entry(REAPI + "Capabilities/GetCapabilities", Need.READ));

  private final ResourceNameParser names;

  AccessRules(ResourceNameParser names) {
    this.names = requireNonNull(names, "names");
  }

  Need needOf(String fullMethodName) {
    Need n = METHODS.get(fullMethodName);
    if (n != null) {
      return n;
    }
    if (fullMethodName.startsWith("grpc.health.v1.Health/")) {
      return Need.NOTHING;
    }
    if (fullMethodName.startsWith("grpc.reflection.")) {
      return Need.ANY_TOKEN;
    }
    return Need.UNLISTED;
  }

  /**
   * The name {@code request} acts on: the instance name of a blob resource or REAPI request, or
   * the object name of a plain object. Empty when the request names nothing.
   *
   * @throws IllegalArgumentException when the resource name is malformed
   */
  Optional<String> scopeOf(Object request) {
    return RequestTarget.fieldOf(request)
        .map(
            f -> {
              String value = RequestTarget.nameOf(request);
              if (!f.getName().equals("resource_name")) {
                return value;
              }
              ResourceName n = names.parse(value);
              return n.isBlob() ? n.instance() : n.objectName();
            });
  }
}
