package dev.bytestreams3.service.actioncache;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.ActionResult;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.KeyLayout.ActionResultAddress;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.storage.HashFunction;
import dev.bytestreams3.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A store whose action results exist only while the CAS holds every blob they name: reading an
 * action result's key fails with {@link StorageException.Reason#NOT_FOUND}, a cache miss, when the
 * result refers to an output file, standard output or error, output directory Tree or file inside
 * one that the inner store no longer holds (see {@link OutputCheck}). Its existence answers come
 * from the inner store, so an inner store that caches them and touches what it reports present
 * keeps a served result's outputs alive. Every other key, and a result that does not parse (the
 * reader decides what that is), passes through unchanged.
 */
public final class OutputCheckedStore extends ForwardingStore {

  private final KeyLayout layout;
  private final DigestFunctions digests;
  private final OutputCheck outputs;

  public OutputCheckedStore(BlobStore inner, KeyLayout layout, DigestFunctions digests) {
    super(inner);
    this.layout = requireNonNull(layout, "layout");
    this.digests = requireNonNull(digests, "digests");
    this.outputs = new OutputCheck(inner, layout, digests);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    Optional<ActionResultAddress> address = layout.actionResultOf(key);
    Optional<HashFunction> function =
        address.flatMap(a -> digests.byName(a.functionId()));
    if (function.isEmpty()) {
      return inner().get(key, maxBytes);
    }
    String instance = address.get().instance();
    return inner()
        .get(key, maxBytes)
        .thenCompose(
            data -> {
              ActionResult result;
              try {
                result = ActionResult.parseFrom(data.duplicate());
              } catch (InvalidProtocolBufferException e) {
                return CompletableFuture.completedFuture(data);
              }
              return outputs
                  .missing(instance, function.get(), result)
                  .thenApply(
                      missing -> {
                        if (missing.isPresent()) {
                          throw new StorageException(
                              StorageException.Reason.NOT_FOUND,
                              "the action result at " + key + " refers to " + missing.get(),
                              new OutputsMissing(missing.get()));
                        }
                        return data;
                      });
            });
  }

  @Override
  public String describe() {
    return "output-checked(" + inner().describe() + ")";
  }

  /**
   * What a result read through this store refers to that the CAS no longer holds, when {@code e}
   * is the miss this store answered for it; empty for any other failure.
   */
  static Optional<String> missingOutputs(StorageException e) {
    return e.getCause() instanceof OutputsMissing m ? Optional.of(m.getMessage()) : Optional.empty();
  }

  /** Marks a {@code NOT_FOUND} as this store's: the result is there, its outputs are not. */
  private static final class OutputsMissing extends RuntimeException {
    OutputsMissing(String what) {
      super(what, null, false, false);
    }
  }
}
