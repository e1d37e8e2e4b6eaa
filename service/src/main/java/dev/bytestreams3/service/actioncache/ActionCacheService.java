package dev.bytestreams3.service.actioncache;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ActionCache service: action results are small protobuf objects in the store. A result is
 * served only while every blob it refers to is in the CAS: the store it reads through answers a
 * result whose outputs are gone as missing ({@link OutputCheckedStore}), and the client is told
 * it is a miss, so that it runs the action instead of failing on a download later.
 */
public final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {

  private static final Logger log = LoggerFactory.getLogger(ActionCacheService.class);

  /**
   * The largest stored action result read back. Results arrive through UpdateActionResult, one
   * gRPC message each, so any larger object at a result's key is refused rather than buffered.
   */
  static final long MAX_RESULT_BYTES = 16L << 20;

  private final BlobStore store;
  private final DigestFunctions digests;
  private final Instances instances;
  private final KeyLayout layout;
  private final Inliner inliner;
  private final boolean readOnly;

  /**
   * @param store the store results are read from; for results to be served only while their
   *     outputs exist, an {@link OutputCheckedStore}
   * @param inlineLimitBytes most bytes inlined into one GetActionResult answer
   * @param readOnly whether UpdateActionResult is refused
   */
  public ActionCacheService(
      BlobStore store,
      DigestFunctions digests,
      Instances instances,
      KeyLayout layout,
      long inlineLimitBytes,
      boolean readOnly) {
    this.store = requireNonNull(store, "store");
    this.digests = requireNonNull(digests, "digests");
    this.instances = requireNonNull(instances, "instances");
    this.layout = requireNonNull(layout, "layout");
    this.inliner = new Inliner(store, layout, inlineLimitBytes);
    this.readOnly = readOnly;
  }

  @Override
  public void getActionResult(
      GetActionResultRequest request, StreamObserver<ActionResult> responses) {
    answer(
        responses,
        () -> {
          String instance = instances.check(request.getInstanceName());
          BlobDigest action = digests.resolve(request.getDigestFunction(), request.getActionDigest());
          BlobKey key = layout.actionResultKey(instance, action.function(), action.hash());
          return store
              .get(key, MAX_RESULT_BYTES)
              .exceptionally(
                  err -> {
                    StorageException e = StorageException.from(err);
                    if (e.reason() == StorageException.Reason.NOT_FOUND) {
                      throw OutputCheckedStore.missingOutputs(e)
                          .map(m -> miss("action result for " + action + " refers to " + m))
                          .orElseGet(() -> miss("no action result for " + action));
                    }
                    throw e;
                  })
              .thenApply(data -> parse(data, action, key))
              .thenCompose(
                  result -> inliner.inline(instance, action.function(), request, result));
        });
  }

  @Override
  public void updateActionResult(
      UpdateActionResultRequest request, StreamObserver<ActionResult> responses) {
    answer(
        responses,
        () -> {
          if (readOnly) {
            throw Status.PERMISSION_DENIED
                .withDescription(
                    "the action cache is read-only on this server (--action-cache-read-only)")
                .asRuntimeException();
          }
          String instance = instances.check(request.getInstanceName());
          BlobDigest action = digests.resolve(request.getDigestFunction(), request.getActionDigest());
          if (!request.hasActionResult()) {
            throw new IllegalArgumentException("action_result is missing");
          }
          ActionResult result = request.getActionResult();
          OutputCheck.digestsOf(digests, action.function(), result);
          BlobKey key = layout.actionResultKey(instance, action.function(), action.hash());
          return store.put(key, ByteBuffer.wrap(result.toByteArray())).thenApply(v -> result);
        });
  }

  /**
   * Parses a stored result; one that does not parse is logged with its key and answered as a
   * miss, so that the client runs the action and stores a good result over it.
   */
  private static ActionResult parse(ByteBuffer data, BlobDigest action, BlobKey key) {
    try {
      return ActionResult.parseFrom(data);
    } catch (InvalidProtocolBufferException e) {
      log.warn("stored action result at {} does not parse ({}); answering a cache miss", key, e.getMessage());
      throw miss("the stored action result for " + action + " is unreadable; run the action again");
    }
  }

  private static RuntimeException miss(String message) {
    return Status.NOT_FOUND.withDescription(message).asRuntimeException();
  }

  private static <T> void answer(StreamObserver<T> responses, Supplier<CompletableFuture<T>> work) {
    CompletableFuture<T> f;
    try {
      f = work.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (r, err) -> {
          if (err != null) {
            responses.onError(GrpcStatuses.exception(err));
          } else {
            responses.onNext(r);
            responses.onCompleted();
          }
        });
  }
}
