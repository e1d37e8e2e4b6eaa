package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.compression.ZstdBlobs;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.Instances;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.AsyncPermits;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.StorageException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The ContentAddressableStorage service: existence checks, batch writes and reads with per-blob
 * statuses, and GetTree. It validates and orchestrates; blobs live in the {@link BlobStore}.
 */
public final class ContentAddressableStorageService
    extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {

  private final BlobStore store;
  private final DigestFunctions digests;
  private final Instances instances;
  private final KeyLayout layout;
  private final CasLimits limits;
  private final TreePages trees;
  /** Whole-blob reads of BatchReadBlobs running at once, across all calls. */
  private final AsyncPermits batchReads = new AsyncPermits(BATCH_READS_IN_FLIGHT);

  /** How many BatchReadBlobs store reads run at once, across all calls; the rest wait their turn. */
  static final int BATCH_READS_IN_FLIGHT = 16;

  public ContentAddressableStorageService(
      BlobStore store,
      DigestFunctions digests,
      Instances instances,
      KeyLayout layout,
      CasLimits limits) {
    this.store = requireNonNull(store, "store");
    this.digests = requireNonNull(digests, "digests");
    this.instances = requireNonNull(instances, "instances");
    this.layout = requireNonNull(layout, "layout");
    this.limits = requireNonNull(limits, "limits");
    this.trees = new TreePages(store, digests, layout);
  }

  @Override
  public void findMissingBlobs(
      FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> responses) {
    answer(
        responses,
        () -> {
          String instance = instances.check(request.getInstanceName());
          Map<StoredBlob, Digest> asked = new LinkedHashMap<>();
          for (Digest d : request.getBlobDigestsList()) {
            BlobDigest blob = digests.resolve(request.getDigestFunction(), d);
            if (!blob.isEmptyBlob()) {
              asked.putIfAbsent(
                  new StoredBlob(layout.casKey(instance, blob.function(), blob.hash()), blob.size()),
                  d);
            }
          }
          List<BlobKey> keys = new ArrayList<>();
          for (StoredBlob b : asked.keySet()) {
            keys.add(b.key());
          }
          return store
              .sizes(keys)
              .thenApply(
                  sizes -> {
                    FindMissingBlobsResponse.Builder b = FindMissingBlobsResponse.newBuilder();
                    for (Map.Entry<StoredBlob, Digest> e : asked.entrySet()) {
                      Long size = sizes.get(e.getKey().key());
                      if (size == null || size != e.getKey().sizeBytes()) {
                        b.addMissingBlobDigests(e.getValue());
                      }
                    }
                    return b.build();
                  });
        });
  }

  @Override
  public void batchUpdateBlobs(
      BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> responses) {
    answer(
        responses,
        () -> {
          String instance = instances.check(request.getInstanceName());
          // The limit counts what the blobs become, not what they take on the wire: a compressed
          // entry costs its declared, uncompressed size.
          long total = 0;
          for (BatchUpdateBlobsRequest.Request r : request.getRequestsList()) {
            total = saturatedAdd(total, Math.max(r.getDigest().getSizeBytes(), r.getData().size()));
          }
          limits.checkBatch("BatchUpdateBlobs", total);
          List<CompletableFuture<BatchUpdateBlobsResponse.Response>> each = new ArrayList<>();
          for (BatchUpdateBlobsRequest.Request r : request.getRequestsList()) {
            each.add(
                attempt(() -> update(instance, request, r))
                    .handle(
                        (v, err) ->
                            BatchUpdateBlobsResponse.Response.newBuilder()
                                .setDigest(r.getDigest())
                                .setStatus(err == null ? GrpcStatuses.ok() : GrpcStatuses.toProto(err))
                                .build()));
          }
          return all(each)
              .thenApply(rs -> BatchUpdateBlobsResponse.newBuilder().addAllResponses(rs).build());
        });
  }

  private CompletableFuture<Void> update(
      String instance, BatchUpdateBlobsRequest request, BatchUpdateBlobsRequest.Request r) {
    BlobDigest d = digests.resolve(request.getDigestFunction(), r.getDigest());
    limits.checkBlobSize(d.size(), "blob " + d.hash());
    byte[] data;
    switch (r.getCompressor()) {
      case IDENTITY:
        data = r.getData().toByteArray();
        break;
      case ZSTD:
        data = ZstdBlobs.decompress(r.getData(), d.size());
        break;
      default:
        throw new IllegalArgumentException(
            "compressor " + r.getCompressor() + " of blob " + d.hash()
                + " is not supported (supported: IDENTITY, ZSTD)");
    }
    if (data.length != d.size()) {
      throw new IllegalArgumentException(
          "blob " + d.hash() + " has " + data.length + " bytes (expected: " + d.size() + ")");
    }
    var hasher = d.function().newHasher();
    hasher.update(ByteBuffer.wrap(data));
    byte[] actual = hasher.digest();
    if (!MessageDigest.isEqual(actual, d.hashBytes())) {
      throw new IllegalArgumentException(
          "blob data hashes to " + d.function().id() + ":" + HexFormat.of().formatHex(actual)
              + " (expected: " + d.hash() + ")");
    }
    if (d.isEmptyBlob()) {
      return CompletableFuture.completedFuture(null);
    }
    BlobKey key = layout.casKey(instance, d.function(), d.hash());
    return store.put(key, ByteBuffer.wrap(data));
  }

  @Override
  public void batchReadBlobs(
      BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> responses) {
    answer(
        responses,
        () -> {
          String instance = instances.check(request.getInstanceName());
          long total = 0;
          for (Digest d : request.getDigestsList()) {
            total = saturatedAdd(total, Math.max(0, d.getSizeBytes()));
          }
          limits.checkBatch("BatchReadBlobs", total);
          boolean zstd = request.getAcceptableCompressorsList().contains(Compressor.Value.ZSTD);
          List<CompletableFuture<BatchReadBlobsResponse.Response>> each = new ArrayList<>();
          for (Digest digest : request.getDigestsList()) {
            each.add(
                attempt(() -> read(instance, request, digest))
                    .handle(
                        (data, err) -> {
                          BatchReadBlobsResponse.Response.Builder b =
                              BatchReadBlobsResponse.Response.newBuilder().setDigest(digest);
                          if (err != null) {
                            return b.setStatus(GrpcStatuses.toProto(err)).build();
                          }
                          if (zstd) {
                            b.setData(ZstdBlobs.compress(data)).setCompressor(Compressor.Value.ZSTD);
                          } else {
                            b.setData(com.google.protobuf.ByteString.copyFrom(data));
                          }
                          return b.setStatus(GrpcStatuses.ok()).build();
                        }));
          }
          return all(each)
              .thenApply(rs -> BatchReadBlobsResponse.newBuilder().addAllResponses(rs).build());
        });
  }

  private CompletableFuture<ByteBuffer> read(
      String instance, BatchReadBlobsRequest request, Digest digest) {
    BlobDigest d = digests.resolve(request.getDigestFunction(), digest);
    if (d.isEmptyBlob()) {
      return CompletableFuture.completedFuture(ByteBuffer.allocate(0));
    }
    BlobKey key = layout.casKey(instance, d.function(), d.hash());
    // The read may hold no more than the digest declares (which the batch limit bounds): a larger
    // blob at the key is refused before any of it is buffered.
    return batchReads
        .run(() -> store.get(key, d.size()))
        .exceptionally(
            err -> {
              StorageException e = StorageException.from(err);
              if (e.reason() == StorageException.Reason.TOO_LARGE) {
                throw new IllegalArgumentException(
                    "blob " + d.hash() + " has more than " + d.size() + " bytes (expected: "
                        + d.size() + ", the requested size)");
              }
              throw e;
            })
        .thenApply(
            data -> {
              if (data.remaining() != d.size()) {
                throw new IllegalArgumentException(
                    "blob " + d.hash() + " has " + data.remaining() + " bytes (expected: "
                        + d.size() + ", the requested size)");
              }
              return data;
            });
  }

  @Override
  public void getTree(GetTreeRequest request, StreamObserver<GetTreeResponse> responses) {
    try {
      String instance = instances.check(request.getInstanceName());
      trees.stream(instance, request, (ServerCallStreamObserver<GetTreeResponse>) responses);
    } catch (RuntimeException e) {
      responses.onError(GrpcStatuses.exception(e));
    }
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  private static <T> CompletableFuture<T> attempt(Supplier<CompletableFuture<T>> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static <T> CompletableFuture<List<T>> all(List<CompletableFuture<T>> each) {
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
  }

  /** Runs a unary call's work and sends its answer or its failure's status. */
  static <T> void answer(StreamObserver<T> responses, Supplier<CompletableFuture<T>> work) {
    attempt(work)
        .whenComplete(
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
