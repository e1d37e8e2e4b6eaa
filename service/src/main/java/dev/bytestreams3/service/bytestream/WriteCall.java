package dev.bytestreams3.service.bytestream;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.cas.CasLimits;
import dev.bytestreams3.service.compression.ZstdDecoder;
import dev.bytestreams3.service.resource.ClientText;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One {@code Write}: checks each request, hands its bytes to the store and asks the client for the
 * next message only once the store has taken the last one. Every step runs after the previous
 * one's future, so the store's backpressure reaches the client through gRPC flow control and no
 * thread ever waits for the store.
 */
final class WriteCall implements StreamObserver<WriteRequest> {

  private final BlobStore store;
  private final ResourceNameParser names;
  private final Uploads uploads;
  private final CasLimits limits;
  private final ServerCallStreamObserver<WriteResponse> call;
  private final OpeningMessages opening;
  private final Object connection;
  private final IdleLimits idle;

  /**
   * Once the upload is open, the next message is asked for ahead of the store while fewer bytes
   * than this wait for it: small messages (Bazel sends 16 KiB) then do not each wait for a round
   * trip through the transport, and a stream still holds at most this much beside one message.
   */
  static final int AHEAD_BYTES = 64 * 1024;

  /** The share of {@link #opening} this call holds until its first message is stored. */
  private OpeningMessages.Share openingShare;

  /** The share while it is asked for; cancelled, it leaves the queue when the call ends. */
  private CompletableFuture<OpeningMessages.Share> pendingShare;

  /** Whether the first message has arrived. */
  private boolean received;

  /**
   * Since when the server has waited for the client's next bytes, in {@link System#nanoTime()}:
   * when the message asked for last was asked for, unless messages carrying nothing came since,
   * which do not count as progress.
   */
  private long askedAtNanos;

  /** Whether the last message carried bytes or finished the write (or was the first). */
  private boolean lastWasProgress = true;

  /** Whether the client has half-closed: from then on, only the store keeps anyone waiting. */
  private boolean halfClosed;

  private java.util.concurrent.ScheduledFuture<?> idleCheck;

  /** The last step of this call; the next one runs after it. */
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

  private String resource;
  private ResourceName name;
  private UploadSpec spec;
  private Upload upload;
  private boolean finishWrite;
  private boolean done;

  /** Bytes of messages received and not yet taken by the store. */
  private long waitingBytes;

  /** Whether a message has been asked for and not yet received. */
  private boolean asked;

  /** For {@code compressed-blobs/zstd} uploads: the decompressor, and the bytes as sent. */
  private ZstdDecoder decoder;

  private long compressedReceived;

  /**
   * For uncompressed uploads, the offset the client's next message starts at: below the upload's
   * position while a verified upload drops bytes it already holds.
   */
  private long clientOffset;

  WriteCall(
      BlobStore store,
      ResourceNameParser names,
      Uploads uploads,
      CasLimits limits,
      OpeningMessages opening,
      Object connection,
      IdleLimits idle,
      ServerCallStreamObserver<WriteResponse> call) {
    this.store = store;
    this.names = names;
    this.uploads = uploads;
    this.limits = limits;
    this.call = call;
    this.opening = opening;
    this.connection = connection;
    this.idle = idle;
  }

  /**
   * Asks for the first message once its bytes fit in the opening-message budget: the first
   * message waits, held, for S3 to answer whether the blob exists and where the upload stands,
   * and without this bound every open stream could hold one. A call whose turn does not come
   * within {@link IdleLimits#roomWait()} is ended with {@code RESOURCE_EXHAUSTED}.
   */
  void start() {
    call.disableAutoRequest();
    call.setOnCancelHandler(this::cancelled);
    CompletableFuture<OpeningMessages.Share> share = opening.reserve(connection);
    synchronized (this) {
      pendingShare = share;
    }
    if (!share.isDone()) {
      scheduleRoomCheck();
    }
    share.whenComplete(
        (r, err) -> {
          if (err != null) {
            // Cancelled because the call ended, or refused: nothing is held either way.
            fail(err);
            return;
          }
          java.util.concurrent.ScheduledFuture<?> roomCheck;
          synchronized (this) {
            pendingShare = null;
            roomCheck = idleCheck;
            idleCheck = null;
            if (!done) {
              openingShare = r;
              r = null;
            }
          }
          if (roomCheck != null) {
            roomCheck.cancel(false);
          }
          if (r == null) {
            ask();
            scheduleIdleCheck(idle.firstMessage().toNanos());
          } else {
            r.close();
          }
        });
  }

  private synchronized void scheduleIdleCheck(long nanos) {
    if (!done) {
      idleCheck = idle.after(nanos, this::checkIdle);
    }
  }

  private synchronized void scheduleRoomCheck() {
    if (!done) {
      idleCheck = idle.after(idle.roomWait().toNanos(), this::checkRoom);
    }
  }

  /**
   * Ends the call when its turn for room for its first message has not come in time while its own
   * connection holds room for calls that send nothing: its client is told the server is short of
   * room, which it may retry, and its place in the queue goes. A call whose connection's calls
   * have all sent their first messages (they wait for the store, which is busy) waits on: the
   * queue is work in progress, not silence.
   */
  private void checkRoom() {
    synchronized (this) {
      if (done || pendingShare == null || pendingShare.isDone()) {
        return;
      }
    }
    // A call granted room a moment ago may not have sent its message yet; one silent for half
    // the first-message timeout has kept the others waiting.
    if (!opening.holdsRoomForSilentCalls(connection, idle.firstMessage().toNanos() / 2)) {
      synchronized (this) {
        if (!done && pendingShare != null) {
          idleCheck = idle.after(idle.firstMessage().toNanos() / 2, this::checkRoom);
        }
      }
      return;
    }
    idle.countTurnedAway();
    fail(
        Status.RESOURCE_EXHAUSTED
            .withDescription(
                "the server had no room for this Write's first message for "
                    + IdleLimits.words(idle.roomWait())
                    + "; other Writes of this connection hold it and send nothing, retry later")
            .asRuntimeException());
  }

  /**
   * Ends the call when the client has kept the server waiting for a message longer than the
   * limit; the time the store keeps the client waiting does not count.
   */
  private void checkIdle() {
    Duration limit;
    boolean onlyEmpty;
    synchronized (this) {
      if (done) {
        return;
      }
      limit = received ? idle.progress() : idle.firstMessage();
      onlyEmpty = !lastWasProgress;
      // Handling a message that carried nothing is still waiting for the client; once the client
      // has half-closed, the store finishing the upload is not.
      long idleFor = !halfClosed && (asked || onlyEmpty) ? System.nanoTime() - askedAtNanos : 0;
      if (idleFor < limit.toNanos()) {
        idleCheck = idle.after(limit.toNanos() - idleFor, this::checkIdle);
        return;
      }
    }
    idle.countEnded();
    fail(
        Status.DEADLINE_EXCEEDED
            .withDescription(
                (onlyEmpty
                        ? "the Write sent only empty messages for "
                        : "the Write sent no " + (received ? "further " : "") + "message for ")
                    + IdleLimits.words(limit) + "; the server ends streams idle that long")
            .asRuntimeException());
  }

  @Override
  public void onNext(WriteRequest request) {
    OpeningMessages.Share share;
    synchronized (this) {
      share = openingShare;
    }
    if (share != null) {
      // The message is here: hold only what it takes.
      share.shrinkTo(request.getSerializedSize());
    }
    boolean more;
    synchronized (this) {
      // Progress is bytes (or the end), not messages: a stream of empty ones is idle.
      lastWasProgress = !received || !request.getData().isEmpty() || request.getFinishWrite();
      received = true;
      asked = false;
      waitingBytes += request.getData().size();
      more =
          upload != null && !request.getFinishWrite() && !finishWrite && !done
              && waitingBytes < AHEAD_BYTES;
      asked = more;
      startWaiting();
    }
    if (more) {
      call.request(1);
    }
    then(() -> handle(request));
  }

  /** Asks for the next message. */
  private void ask() {
    synchronized (this) {
      asked = true;
      startWaiting();
    }
    call.request(1);
  }

  /** Starts the idle clock over, unless the client's last message carried nothing. */
  private void startWaiting() {
    if (lastWasProgress) {
      askedAtNanos = System.nanoTime();
    }
  }

  @Override
  public void onCompleted() {
    synchronized (this) {
      halfClosed = true;
    }
    then(this::clientDone);
  }

  @Override
  public void onError(Throwable t) {
    cancelled();
  }

  private synchronized void then(java.util.function.Supplier<CompletableFuture<Void>> step) {
    tail =
        tail.thenCompose(
                v -> {
                  if (isDone()) {
                    return CompletableFuture.completedFuture(null);
                  }
                  try {
                    return step.get();
                  } catch (RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                  }
                })
            .exceptionally(
                err -> {
                  fail(err);
                  return null;
                });
  }

  private CompletableFuture<Void> handle(WriteRequest request) {
    if (finishWrite) {
      throw invalid(
          "a WriteRequest arrived after the one with finish_write for " + ClientText.quote(resource));
    }
    if (resource == null) {
      return first(request);
    }
    if (!request.getResourceName().isEmpty() && !request.getResourceName().equals(resource)) {
      throw invalid(
          "resource_name " + ClientText.quote(request.getResourceName())
              + " differs from this Write's first one, " + ClientText.quote(resource));
    }
    long expected = decoder != null ? compressedReceived : clientOffset;
    if (request.getWriteOffset() != expected) {
      throw invalid(
          "write_offset " + request.getWriteOffset() + " (expected: " + expected
              + ", the first write_offset plus the bytes sent since)");
    }
    return append(request);
  }

  private CompletableFuture<Void> first(WriteRequest request) {
    if (request.getResourceName().isEmpty()) {
      throw invalid("the first WriteRequest has no resource_name");
    }
    resource = request.getResourceName();
    name = names.parse(resource);
    if (name.kind() == ResourceName.Kind.BLOB) {
      throw invalid(
          "resource_name " + ClientText.quote(resource)
              + " is not an upload name; write to '{instance}/uploads/{uuid}/blobs/{hash}/{size}'");
    }
    ByteStreamService.rejectCompressed(name);
    boolean zstd = ByteStreamService.isZstd(name);
    if (ByteStreamService.isEmptyBlob(name)) {
      respond(zstd ? -1 : 0);
      return CompletableFuture.completedFuture(null);
    }
    if (name.isBlob()) {
      limits.checkBlobSize(name.size(), "blob " + ClientText.quote(resource));
    }
    if (zstd) {
      if (request.getWriteOffset() != 0) {
        throw invalid(
            "write_offset " + request.getWriteOffset() + " on compressed upload " + ClientText.quote(resource)
                + " (expected: 0; compressed uploads start over rather than resume)");
      }
      decoder = new ZstdDecoder();
    }
    spec = uploads.specOf(name);
    // Asking the store whether the blob exists saves sending bytes still to come; when this
    // message carries the whole blob, none are, and storing it again costs one request as the
    // question would (a client asked FindMissingBlobs first, so it is usually missing anyway).
    // When the store has just answered that question for FindMissingBlobs, it is not asked again.
    CompletableFuture<Boolean> stored =
        name.isBlob() && !carriesWholeBlob(request)
            ? store.holdsBeforeUpload(spec.key(), name.size())
            : CompletableFuture.completedFuture(false);
    return stored.thenCompose(
        exists -> {
          if (exists) {
            // Already in the CAS: the client need not send a byte more.
            respond(decoder != null ? -1 : name.size());
            return CompletableFuture.completedFuture(null);
          }
          return store.openUpload(spec).thenCompose(u -> resume(u, request));
        });
  }

  /** Whether {@code first}, an uncompressed upload's first message, holds all of its blob. */
  private boolean carriesWholeBlob(WriteRequest first) {
    return decoder == null
        && first.getFinishWrite()
        && first.getWriteOffset() == 0
        && first.getData().size() == name.size();
  }

  private CompletableFuture<Void> resume(Upload opened, WriteRequest request) {
    if (!attach(opened)) {
      return CompletableFuture.completedFuture(null);
    }
    long offset = request.getWriteOffset();
    clientOffset = offset;
    if (offset == opened.committedSize()) {
      return append(request);
    }
    if (offset >= 0 && offset < opened.committedSize() && spec.check().isPresent()) {
      // An honest retry from an offset QueryWriteStatus gave before a late part landed: the
      // verified state already covers the bytes it sends again, so they are dropped.
      return append(request);
    }
    if (offset == 0) {
      // The client starts over: discard what was committed and begin a fresh upload.
      return opened
          .abort()
          .thenCompose(v -> store.openUpload(spec))
          .thenCompose(
              u -> {
                if (!attach(u)) {
                  return CompletableFuture.completedFuture(null);
                }
                return append(request);
              });
    }
    throw invalid(
        "write_offset " + offset + " does not match the committed size " + opened.committedSize()
            + " of " + ClientText.quote(resource) + "; resume from the committed_size QueryWriteStatus returns");
  }

  /** Makes {@code u} this call's upload, or lets it go when the call already ended. */
  private boolean attach(Upload u) {
    synchronized (this) {
      if (!done) {
        upload = u;
        return true;
      }
    }
    u.detach();
    return false;
  }

  private CompletableFuture<Void> append(WriteRequest request) {
    // Only these outlive this method: the message's bytes may be dropped once copied.
    boolean finish = request.getFinishWrite();
    int size = request.getData().size();
    CompletableFuture<Void> stored;
    if (decoder != null) {
      compressedReceived += request.getData().size();
      decoder.feed(request.getData().asReadOnlyByteBuffer());
      stored = drain();
    } else {
      // Bytes below the upload's position are ones a verified upload already holds.
      long held = Math.max(0, Math.min(size, upload.position() - clientOffset));
      clientOffset += size;
      com.google.protobuf.ByteString data = request.getData().substring((int) held);
      checkDeclaredSize(data.size());
      stored =
          data.isEmpty()
              ? CompletableFuture.completedFuture(null)
              // A ByteString never changes, so a store may keep its bytes without copying them.
              : upload.appendUnchanging(data.asReadOnlyByteBuffer());
    }
    return stored.thenRun(
        () -> {
          boolean more;
          synchronized (this) {
            if (finish) {
              finishWrite = true;
            }
            waitingBytes -= size;
            // With the bytes taken, the client may send more, unless that was asked already.
            more = !asked && !done && waitingBytes < AHEAD_BYTES;
            if (more) {
              asked = true;
              startWaiting();
            }
          }
          releaseOpeningShare();
          if (more) {
            call.request(1);
          }
        });
  }

  private void checkDeclaredSize(long more) {
    long after = upload.position() + more;
    if (name.isBlob() && after > name.size()) {
      throw invalid(
          ClientText.quote(resource) + " declares " + name.size() + " bytes, but the "
              + (decoder != null ? "decompressed " : "") + "data reaches byte " + after);
    }
  }

  /** Hands the decompressed bytes to the upload one bounded chunk at a time. */
  private CompletableFuture<Void> drain() {
    // A loop while the store takes chunks at once, so a highly compressed message never nests
    // one stack frame per chunk.
    while (true) {
      ByteBuffer chunk = decoder.next();
      if (chunk == null) {
        return CompletableFuture.completedFuture(null);
      }
      checkDeclaredSize(chunk.remaining());
      CompletableFuture<Void> taken = upload.append(chunk);
      if (!taken.isDone() || taken.isCompletedExceptionally()) {
        return taken.thenCompose(v -> drain());
      }
    }
  }

  private CompletableFuture<Void> clientDone() {
    if (resource == null) {
      throw invalid("the Write ended without a WriteRequest");
    }
    if (upload == null) {
      return CompletableFuture.completedFuture(null);
    }
    if (decoder != null) {
      if (!finishWrite) {
        // A compressed upload cannot resume, so nothing of it is worth keeping.
        return upload.abort().thenRun(() -> respond(0));
      }
      decoder.checkComplete();
      return upload.finish().thenRun(() -> respond(compressedReceived));
    }
    if (finishWrite) {
      return upload.finish().thenAccept(this::respond);
    }
    // The client stopped without finishing: tell it what it can resume from.
    return upload.suspend().thenAccept(this::respond);
  }

  private void respond(long committed) {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
    }
    releaseOpeningShare();
    closeDecoder();
    call.onNext(WriteResponse.newBuilder().setCommittedSize(committed).build());
    call.onCompleted();
  }

  private void releaseOpeningShare() {
    OpeningMessages.Share share;
    CompletableFuture<OpeningMessages.Share> pending;
    java.util.concurrent.ScheduledFuture<?> check;
    synchronized (this) {
      share = openingShare;
      openingShare = null;
      pending = done ? pendingShare : null;
      check = done ? idleCheck : null;
    }
    if (share != null) {
      share.close();
    }
    if (pending != null) {
      // Still waiting for the share: leave the queue now rather than when its turn comes.
      pending.cancel(false);
    }
    if (check != null) {
      check.cancel(false);
    }
  }

  private void closeDecoder() {
    if (decoder != null) {
      decoder.close();
    }
  }

  private void fail(Throwable err) {
    Upload u;
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      u = upload;
    }
    if (u != null) {
      // Committed bytes stay for a retry; a store that already discarded the upload ignores this.
      u.detach();
    }
    releaseOpeningShare();
    closeDecoder();
    call.onError(
        resource != null && spec != null
            ? GrpcStatuses.exception(err, resource, spec.key())
            : GrpcStatuses.exception(err));
  }

  private void cancelled() {
    Upload u;
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      u = upload;
    }
    if (u != null) {
      u.detach();
    }
    releaseOpeningShare();
    closeDecoder();
  }

  private synchronized boolean isDone() {
    return done;
  }

  private static RuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
