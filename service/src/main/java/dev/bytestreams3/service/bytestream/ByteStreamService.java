package dev.bytestreams3.service.bytestream;

import static java.util.Objects.requireNonNull;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.compression.ZstdBlobs;
import dev.bytestreams3.service.resource.ClientText;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.UploadStatus;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * The ByteStream API over a {@link BlobStore}: it checks requests and orchestrates the store, and
 * holds no storage logic of its own.
 */
public final class ByteStreamService implements ByteStreamGrpc.AsyncService, BindableService {

  private final BlobStore store;
  private final ResourceNameParser names;
  private final KeyLayout layout;
  private final Uploads uploads;
  private final CasLimits limits;
  private final OpeningMessages opening;
  private final IdleLimits idle;

  /**
   * @param objectOverwrite whether a write may replace an existing plain object
   * @param limits the largest blob accepted
   * @param opening the bound on first messages that writes hold while their upload opens
   */
  public ByteStreamService(
      BlobStore store,
      ResourceNameParser names,
      KeyLayout layout,
      boolean objectOverwrite,
      CasLimits limits,
      OpeningMessages opening) {
    this(
        store, names, layout, objectOverwrite, limits, opening,
        new IdleLimits(DEFAULT_FIRST_MESSAGE_TIMEOUT, DEFAULT_PROGRESS_TIMEOUT));
  }

  /** How long a Write may take to send its first message, unless configured. */
  public static final java.time.Duration DEFAULT_FIRST_MESSAGE_TIMEOUT =
      java.time.Duration.ofSeconds(10);

  /** How long a stream may make no progress on the client's side, unless configured. */
  public static final java.time.Duration DEFAULT_PROGRESS_TIMEOUT =
      java.time.Duration.ofSeconds(60);

  /**
   * As the constructor above, ending idle streams as {@code idle} says.
   *
   * @param idle how long writes and reads may keep the server waiting
   */
  public ByteStreamService(
      BlobStore store,
      ResourceNameParser names,
      KeyLayout layout,
      boolean objectOverwrite,
      CasLimits limits,
      OpeningMessages opening,
      IdleLimits idle) {
    this.idle = requireNonNull(idle, "idle");
    this.store = requireNonNull(store, "store");
    this.names = requireNonNull(names, "names");
    this.layout = requireNonNull(layout, "layout");
    this.uploads = new Uploads(layout, objectOverwrite);
    this.limits = requireNonNull(limits, "limits");
    this.opening = requireNonNull(opening, "opening");
  }

  /** The service, each call told which connection it came on (first messages are granted by it). */
  @Override
  public ServerServiceDefinition bindService() {
    return ServerInterceptors.intercept(ByteStreamGrpc.bindService(this), new CallConnection());
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> responses) {
    ServerCallStreamObserver<ReadResponse> call =
        (ServerCallStreamObserver<ReadResponse>) responses;
    ResourceName name;
    try {
      name = names.parse(request.getResourceName());
      if (name.kind() == ResourceName.Kind.BLOB_UPLOAD) {
        throw Status.INVALID_ARGUMENT
            .withDescription(
                "resource_name " + ClientText.quote(request.getResourceName())
                    + " is an upload name; read '{instance}/blobs/{hash}/{size}'")
            .asRuntimeException();
      }
      rejectCompressed(name);
      if (isZstd(name) && request.getReadLimit() != 0) {
        throw Status.INVALID_ARGUMENT
            .withDescription(
                "read_limit " + request.getReadLimit() + " on compressed resource "
                    + ClientText.quote(request.getResourceName()) + " (expected: 0; a compressed read runs to the"
                    + " end, read_offset counts uncompressed bytes)")
            .asRuntimeException();
      }
      if (request.getReadOffset() < 0) {
        throw Status.OUT_OF_RANGE
            .withDescription("read_offset " + request.getReadOffset() + " is negative")
            .asRuntimeException();
      }
      if (request.getReadLimit() < 0) {
        throw Status.INVALID_ARGUMENT
            .withDescription("read_limit " + request.getReadLimit() + " is negative")
            .asRuntimeException();
      }
    } catch (RuntimeException e) {
      responses.onError(GrpcStatuses.exception(e));
      return;
    }
    if (isEmptyBlob(name)) {
      if (request.getReadOffset() > 0) {
        responses.onError(
            Status.OUT_OF_RANGE
                .withDescription(
                    "read_offset " + request.getReadOffset() + " is past the end of "
                        + ClientText.quote(request.getResourceName()) + " (0 bytes)")
                .asRuntimeException());
      } else {
        if (isZstd(name)) {
          responses.onNext(
              ReadResponse.newBuilder()
                  .setData(ZstdBlobs.compress(java.nio.ByteBuffer.allocate(0)))
                  .build());
        }
        responses.onCompleted();
      }
      return;
    }
    new ReadCall(
            store, new IdleReads(call, idle).watch(), request, name, layout.keyOf(name),
            isZstd(name))
        .start();
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> responses) {
    ServerCallStreamObserver<WriteResponse> call =
        (ServerCallStreamObserver<WriteResponse>) responses;
    WriteCall w =
        new WriteCall(store, names, uploads, limits, opening, CallConnection.current(), idle, call);
    w.start();
    return w;
  }

  @Override
  public void queryWriteStatus(
      QueryWriteStatusRequest request, StreamObserver<QueryWriteStatusResponse> responses) {
    CompletableFuture<QueryWriteStatusResponse> answer;
    BlobKey asked;
    try {
      ResourceName name = names.parse(request.getResourceName());
      if (name.kind() == ResourceName.Kind.BLOB) {
        throw Status.INVALID_ARGUMENT
            .withDescription(
                "resource_name " + ClientText.quote(request.getResourceName())
                    + " is not an upload name; use '{instance}/uploads/{uuid}/blobs/...'")
            .asRuntimeException();
      }
      rejectCompressed(name);
      asked = isZstd(name) ? layout.keyOf(name) : uploads.specOf(name).key();
      if (isEmptyBlob(name)) {
        answer = CompletableFuture.completedFuture(status(0, true));
      } else if (isZstd(name)) {
        // Compressed uploads restart from zero (a decompressor's state is not saved), so only a
        // published blob has anything committed.
        answer =
            store
                .size(layout.keyOf(name))
                .thenApply(
                    size ->
                        size.isPresent() && size.getAsLong() == name.size()
                            ? status(size.getAsLong(), true)
                            : status(0, false));
      } else {
        answer =
            store
                .queryUpload(uploads.specOf(name))
                .thenApply(s -> answerFor(request.getResourceName(), name, s));
      }
    } catch (RuntimeException e) {
      responses.onError(GrpcStatuses.exception(e));
      return;
    }
    answer.whenComplete(
        (r, err) -> {
          if (err != null) {
            responses.onError(GrpcStatuses.exception(err, request.getResourceName(), asked));
          } else {
            responses.onNext(r);
            responses.onCompleted();
          }
        });
  }

  private static QueryWriteStatusResponse answerFor(
      String resource, ResourceName name, UploadStatus s) {
    if (!s.known() && !name.isBlob()) {
      // The ByteStream contract for a resource no write has reached.
      throw Status.NOT_FOUND
          .withDescription("no write to " + ClientText.quote(resource) + " has reached this server")
          .asRuntimeException();
    }
    if (s.complete() && name.isBlob() && s.committedSize() != name.size()) {
      // Blobs are stored by hash alone: one of another size is not the blob this upload names,
      // whose write has committed nothing (and will fail verification if sent).
      return status(0, false);
    }
    // An upload id not seen yet has committed nothing: Bazel retries from 0 on this answer,
    // where NOT_FOUND would end its retries.
    return status(s.committedSize(), s.complete());
  }

  private static QueryWriteStatusResponse status(long committed, boolean complete) {
    return QueryWriteStatusResponse.newBuilder()
        .setCommittedSize(committed)
        .setComplete(complete)
        .build();
  }

  static void rejectCompressed(ResourceName name) {
    if (name.compressor().isPresent()
        && !name.compressor().get().equals("identity")
        && !isZstd(name)) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "compressor " + ClientText.quote(name.compressor().get())
                  + " is not supported (supported: identity, zstd)")
          .asRuntimeException();
    }
  }

  /** Whether {@code name} is a {@code compressed-blobs/zstd/...} name. */
  static boolean isZstd(ResourceName name) {
    return name.compressor().filter(c -> c.equals("zstd")).isPresent();
  }

  /** Whether {@code name} is the empty blob, which every content-addressed store holds. */
  static boolean isEmptyBlob(ResourceName name) {
    return name.isBlob()
        && name.size() == 0
        && name.hash().equals(HexFormat.of().formatHex(name.function().newHasher().digest()));
  }
}
