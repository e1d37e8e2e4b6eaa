package dev.bytestreams3.service.gateway;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpObject;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * One {@code PUT} or {@code POST} of raw bytes, streamed into a {@code Write} that starts at the
 * request's offset. The body is gathered into messages of up to {@link #MESSAGE_BYTES}, and more
 * of it is asked for only while the call is ready, so a slow store slows the sender. A body that
 * ends normally finishes the write; a body that is cut ends the call without finishing, so the
 * service commits what it can and a later request resumes from there.
 */
final class RawUpload implements Subscriber<HttpObject> {

  static final int MESSAGE_BYTES = 1 << 20;

  private final ClientCall<WriteRequest, WriteResponse> call;
  private final String resource;
  private final EventExecutor loop;
  private final CompletableFuture<HttpResponse> result = new CompletableFuture<>();
  private long position;
  private boolean first = true;
  private byte[] buffer = new byte[MESSAGE_BYTES];
  private int buffered;
  private Subscription body;
  private boolean waitingForReady;
  private boolean ended;

  RawUpload(Channel channel, String resource, long offset, ServiceRequestContext ctx) {
    this.call = channel.newCall(ByteStreamGrpc.getWriteMethod(), CallOptions.DEFAULT);
    this.resource = resource;
    this.position = offset;
    this.loop = ctx.eventLoop();
  }

  HttpResponse run(HttpRequest req) {
    call.start(
        new ClientCall.Listener<>() {
          private WriteResponse response;

          @Override
          public void onReady() {
            loop.execute(RawUpload.this::resumeBody);
          }

          @Override
          public void onMessage(WriteResponse m) {
            response = m;
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            loop.execute(() -> closed(status, response));
          }
        },
        new Metadata());
    call.request(1);
    req.subscribe(this, loop);
    return HttpResponse.of(result);
  }

  @Override
  public void onSubscribe(Subscription s) {
    body = s;
    s.request(1);
  }

  @Override
  public void onNext(HttpObject o) {
    if (ended) {
      return;
    }
    if (o instanceof HttpData d && !d.isEmpty()) {
      byte[] bytes = d.array();
      int off = 0;
      while (off < bytes.length) {
        int n = Math.min(bytes.length - off, MESSAGE_BYTES - buffered);
        System.arraycopy(bytes, off, buffer, buffered, n);
        buffered += n;
        off += n;
        if (buffered == MESSAGE_BYTES) {
          send(false);
        }
      }
    }
    if (call.isReady()) {
      body.request(1);
    } else {
      waitingForReady = true;
    }
  }

  private void send(boolean finish) {
    WriteRequest.Builder w =
        WriteRequest.newBuilder().setWriteOffset(position).setFinishWrite(finish);
    if (first) {
      w.setResourceName(resource);
      first = false;
    }
    if (buffered > 0) {
      // The message owns the buffer from here; a fresh one takes the next bytes.
      ByteString data =
          buffered == buffer.length
              ? UnsafeByteOperations.unsafeWrap(buffer)
              : ByteString.copyFrom(buffer, 0, buffered);
      w.setData(data);
      position += buffered;
      if (buffered == buffer.length) {
        buffer = new byte[MESSAGE_BYTES];
      }
      buffered = 0;
    }
    call.sendMessage(w.build());
  }

  private void resumeBody() {
    if (waitingForReady && !ended && call.isReady()) {
      waitingForReady = false;
      body.request(1);
    }
  }

  @Override
  public void onComplete() {
    if (ended) {
      return;
    }
    send(true);
    call.halfClose();
  }

  @Override
  public void onError(Throwable t) {
    if (ended) {
      return;
    }
    ended = true;
    // The client's connection broke: hand over what arrived and end without finishing, so the
    // service keeps what it can commit and publishes nothing.
    if (buffered > 0 || first) {
      send(false);
    }
    call.halfClose();
  }

  private void closed(Status status, WriteResponse response) {
    boolean wasEnded = ended;
    ended = true;
    if (body != null && !wasEnded) {
      body.cancel();
    }
    if (!status.isOk()) {
      result.complete(new GatewayError(status).toResponse());
    } else if (response == null) {
      result.complete(
          new GatewayError(Status.INTERNAL.withDescription("the Write returned no response"))
              .toResponse());
    } else {
      result.complete(
          HttpResponse.of(
              ResponseHeaders.builder(HttpStatus.OK)
                  .contentType(MediaType.JSON_UTF_8)
                  .set(RawRoutes.COMMITTED_SIZE, Long.toString(response.getCommittedSize()))
                  .build(),
              HttpData.ofUtf8(JsonMessages.OMITTING_DEFAULTS.print(response))));
    }
  }
}
