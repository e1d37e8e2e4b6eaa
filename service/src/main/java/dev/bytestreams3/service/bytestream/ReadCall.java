package dev.bytestreams3.service.bytestream;

import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.compression.ZstdEncoder;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.ByteBuffer;

/**
 * One {@code Read}: asks the store for the next chunk only while the client's transport is ready
 * for it, so a slow reader slows the store instead of filling memory.
 */
final class ReadCall {

  private final BlobStore store;
  private final ServerCallStreamObserver<ReadResponse> call;
  private final ReadRequest request;
  private final ResourceName name;
  private final BlobKey key;
  private final ZstdEncoder encoder;
  private BlobReader reader;
  private boolean fetching;
  private boolean done;

  ReadCall(
      BlobStore store,
      ServerCallStreamObserver<ReadResponse> call,
      ReadRequest request,
      ResourceName name,
      BlobKey key,
      boolean zstd) {
    this.encoder = zstd ? new ZstdEncoder() : null;
    this.store = store;
    this.call = call;
    this.request = request;
    this.name = name;
    this.key = key;
  }

  void start() {
    call.setOnCancelHandler(this::cancelled);
    call.setOnReadyHandler(this::pump);
    store
        .openReader(key, request.getReadOffset(), request.getReadLimit())
        .whenComplete(
            (r, err) -> {
              if (err != null) {
                fail(err);
                return;
              }
              if (name.isBlob() && r.blobSize() != name.size()) {
                // The store holds a blob of that hash but another size: not the blob asked for.
                r.close();
                fail(
                    Status.NOT_FOUND
                        .withDescription(
                            "'" + request.getResourceName() + "' not found: the blob of that hash has "
                                + r.blobSize() + " bytes (expected: " + name.size() + ")")
                        .asRuntimeException());
                return;
              }
              boolean closeNow;
              synchronized (this) {
                reader = r;
                closeNow = done;
              }
              if (closeNow) {
                r.close();
              } else {
                pump();
              }
            });
  }

  private void pump() {
    BlobReader r;
    synchronized (this) {
      if (reader == null || fetching || done || !call.isReady()) {
        return;
      }
      fetching = true;
      r = reader;
    }
    r.next().whenComplete(this::deliver);
  }

  private void deliver(ByteBuffer chunk, Throwable err) {
    if (err != null) {
      fail(err);
      return;
    }
    synchronized (this) {
      if (done) {
        return;
      }
      if (chunk == null) {
        done = true;
      }
    }
    if (chunk == null) {
      reader.close();
      if (encoder != null) {
        send(encoder.finish());
        encoder.close();
      }
      call.onCompleted();
      return;
    }
    // The chunk is ours alone from here on, so the message may wrap it without a copy. Sending
    // happens while still "fetching", so an on-ready callback cannot start a concurrent send.
    send(encoder == null ? UnsafeByteOperations.unsafeWrap(chunk) : encoder.encode(chunk));
    synchronized (this) {
      fetching = false;
    }
    pump();
  }

  private void send(ByteString data) {
    // The compressor may hold a piece back until it has more; there is nothing to send then.
    if (!data.isEmpty()) {
      call.onNext(ReadResponse.newBuilder().setData(data).build());
    }
  }

  private void fail(Throwable err) {
    BlobReader r;
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      r = reader;
    }
    if (r != null) {
      r.close();
    }
    closeEncoder();
    call.onError(GrpcStatuses.exception(err, request.getResourceName(), key));
  }

  private void cancelled() {
    BlobReader r;
    synchronized (this) {
      done = true;
      r = reader;
    }
    if (r != null) {
      r.close();
    }
    closeEncoder();
  }

  /** Frees the compressor's native memory; safe while it is in use, which ends with an error. */
  private void closeEncoder() {
    if (encoder != null) {
      encoder.close();
    }
  }
}
