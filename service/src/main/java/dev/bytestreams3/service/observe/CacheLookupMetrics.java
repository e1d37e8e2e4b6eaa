package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts cache hits and misses: {@code GetActionResult} answered with a result (hit) or {@code
 * NOT_FOUND} (miss), and each distinct digest a {@code FindMissingBlobs} asked about, present
 * (hit) or missing (miss). Calls that fail otherwise count as neither.
 */
public final class CacheLookupMetrics implements ServerInterceptor {

  private static final String GET_ACTION_RESULT =
      ActionCacheGrpc.getGetActionResultMethod().getFullMethodName();
  private static final String FIND_MISSING_BLOBS =
      ContentAddressableStorageGrpc.getFindMissingBlobsMethod().getFullMethodName();

  private final Counter actionHits;
  private final Counter actionMisses;
  private final Counter blobHits;
  private final Counter blobMisses;

  /** Registers the counters at zero, so that ratios exist before the first lookup. */
  public CacheLookupMetrics(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    actionHits = counter(registry, "action_result", "hit");
    actionMisses = counter(registry, "action_result", "miss");
    blobHits = counter(registry, "blob", "hit");
    blobMisses = counter(registry, "blob", "miss");
  }

  private static Counter counter(MeterRegistry registry, String kind, String result) {
    return Counter.builder("bytestream.cache.lookups")
        .description(
            "Cache lookups by kind (action_result: GetActionResult calls; blob: digests asked"
                + " about by FindMissingBlobs) and result (hit or miss)")
        .tag("kind", kind)
        .tag("result", result)
        .register(registry);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (method.equals(GET_ACTION_RESULT)) {
      return next.startCall(
          new SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
              if (status.isOk()) {
                actionHits.increment();
              } else if (status.getCode() == Status.Code.NOT_FOUND) {
                actionMisses.increment();
              }
              super.close(status, trailers);
            }
          },
          headers);
    }
    if (method.equals(FIND_MISSING_BLOBS)) {
      return findMissingBlobs(call, headers, next);
    }
    return next.startCall(call, headers);
  }

  private <ReqT, RespT> ServerCall.Listener<ReqT> findMissingBlobs(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    // The service answers once per distinct digest asked about.
    AtomicInteger asked = new AtomicInteger();
    ServerCall.Listener<ReqT> inner =
        next.startCall(
            new SimpleForwardingServerCall<>(call) {
              @Override
              public void sendMessage(RespT message) {
                if (message instanceof FindMissingBlobsResponse r) {
                  int missing = r.getMissingBlobDigestsCount();
                  blobMisses.increment(missing);
                  blobHits.increment(Math.max(0, asked.get() - missing));
                }
                super.sendMessage(message);
              }
            },
            headers);
    return new SimpleForwardingServerCallListener<>(inner) {
      @Override
      public void onMessage(ReqT message) {
        if (message instanceof FindMissingBlobsRequest r) {
          asked.set(new HashSet<>(r.getBlobDigestsList()).size());
        }
        super.onMessage(message);
      }
    };
  }
}
