package dev.bytestreams3.service.capabilities;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.semver.SemVer;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.storage.HashFunction;
import io.grpc.stub.StreamObserver;

/**
 * The Capabilities service: this server is a cache only (no execution), and it advertises exactly
 * what it verifies and enforces.
 */
public final class CapabilitiesService extends CapabilitiesGrpc.CapabilitiesImplBase {

  /** The oldest API version served. */
  static final SemVer LOW = SemVer.newBuilder().setMajor(2).setMinor(0).build();

  /**
   * The newest API version whose cache side our definitions carry (SplitBlob and SpliceBlob with
   * their capability fields included; we answer them UNIMPLEMENTED and advertise no support).
   */
  static final SemVer HIGH = SemVer.newBuilder().setMajor(2).setMinor(11).build();

  private final ServerCapabilities capabilities;
  private final Instances instances;

  public CapabilitiesService(
      DigestFunctions digests, Instances instances, CasLimits limits, boolean actionCacheReadOnly) {
    requireNonNull(digests, "digests");
    this.instances = requireNonNull(instances, "instances");
    CacheCapabilities.Builder cache =
        CacheCapabilities.newBuilder()
            .setActionCacheUpdateCapabilities(
                ActionCacheUpdateCapabilities.newBuilder().setUpdateEnabled(!actionCacheReadOnly))
            .setMaxBatchTotalSizeBytes(limits.maxBatchTotalSizeBytes())
            .setMaxCasBlobSizeBytes(limits.maxBlobSizeBytes())
            // A cache stores what clients produced; it never resolves a symlink itself.
            .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.ALLOWED)
            .addSupportedCompressors(Compressor.Value.ZSTD)
            .addSupportedBatchUpdateCompressors(Compressor.Value.ZSTD);
    for (HashFunction f : digests.all()) {
      cache.addDigestFunctions(DigestFunctions.valueOf(f));
    }
    this.capabilities =
        ServerCapabilities.newBuilder()
            .setCacheCapabilities(cache)
            .setLowApiVersion(LOW)
            .setHighApiVersion(HIGH)
            .build();
  }

  @Override
  public void getCapabilities(
      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> responses) {
    try {
      instances.check(request.getInstanceName());
    } catch (RuntimeException e) {
      responses.onError(GrpcStatuses.exception(e));
      return;
    }
    responses.onNext(capabilities);
    responses.onCompleted();
  }
}
