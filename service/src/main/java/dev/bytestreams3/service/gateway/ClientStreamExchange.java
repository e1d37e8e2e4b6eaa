package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpObject;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.stream.SubscriptionOption;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * One client-streaming call fed by a request body of JSON messages, decoded as the bytes arrive.
 * The body is read while the call is ready for more, and on until one more message is complete, so
 * that the next message is decoded while the service handles the last one; then reading waits for
 * the call. A slow service thus slows the HTTP sender, and at most one message beyond what the
 * service asked for is held.
 */
final class ClientStreamExchange implements Subscriber<HttpObject> {

  private final ClientCall<Message, Message> call;
  private final Metadata metadata;
  private final Message prototype;
  private final RequestBinder binder;
  private final Replies replies;
  private final JsonObjectSplitter splitter;
  private final EventExecutor loop;
  private final CompletableFuture<HttpResponse> result = new CompletableFuture<>();
  /** Where pieces of a body in direct memory are copied to be read, small enough to stay cached. */
  private final byte[] scratch = new byte[16 << 10];
  private Subscription body;
  private boolean waitingForReady;
  /** Whether a message was sent while the call was not ready: reading waits for the call then. */
  private boolean ahead;
  private boolean ended;

  ClientStreamExchange(
      ClientCall<Message, Message> call,
      Metadata metadata,
      Message prototype,
      RequestBinder binder,
      Replies replies,
      int maxMessageBytes,
      ServiceRequestContext ctx) {
    this.call = call;
    this.metadata = metadata;
    this.prototype = prototype;
    this.binder = binder;
    this.replies = replies;
    this.splitter = new JsonObjectSplitter(maxMessageBytes, prototype.getDescriptorForType());
    this.loop = ctx.eventLoop();
  }

  HttpResponse run(HttpRequest req) {
    call.start(
        new ClientCall.Listener<>() {
          private Metadata headers;
          private Message response;

          @Override
          public void onHeaders(Metadata h) {
            headers = h;
          }

          @Override
          public void onReady() {
            loop.execute(ClientStreamExchange.this::resumeBody);
          }

          @Override
          public void onMessage(Message m) {
            response = m;
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            Metadata h = headers;
            Message r = response;
            loop.execute(() -> closed(status, r, h, trailers));
          }
        },
        metadata);
    call.request(1);
    req.subscribe(this, loop, SubscriptionOption.WITH_POOLED_OBJECTS);
    return HttpResponse.of(result);
  }

  @Override
  public void onSubscribe(Subscription s) {
    body = s;
    s.request(1);
  }

  @Override
  public void onNext(HttpObject o) {
    if (o instanceof HttpData d) {
      try (d) {
        if (ended) {
          return;
        }
        feed(d);
      } catch (GatewayError e) {
        fail(e);
        return;
      }
    } else if (ended) {
      return;
    }
    if (call.isReady()) {
      ahead = false;
      body.request(1);
    } else if (!ahead) {
      body.request(1);
    } else {
      waitingForReady = true;
    }
  }

  /** Feeds a piece of the body from where it lies, or through a small array that is reused. */
  private void feed(HttpData d) {
    ByteBuf b = d.byteBuf();
    int from = b.readerIndex();
    int to = b.writerIndex();
    if (b.hasArray()) {
      splitter.feed(b.array(), b.arrayOffset() + from, to - from, this::send);
      return;
    }
    while (from < to) {
      int n = Math.min(scratch.length, to - from);
      b.getBytes(from, scratch, 0, n);
      splitter.feed(scratch, 0, n, this::send);
      from += n;
    }
  }

  private void send(byte[] json, int len, List<JsonObjectSplitter.BulkValue> values) {
    Message.Builder b = prototype.newBuilderForType();
    BulkBytesJson.parse(json, len, values, b, binder, "message " + splitter.objects() + " of the body");
    if (!call.isReady()) {
      ahead = true;
    }
    call.sendMessage(b.build());
  }

  private void resumeBody() {
    if (waitingForReady && !ended && call.isReady()) {
      waitingForReady = false;
      ahead = false;
      body.request(1);
    }
  }

  @Override
  public void onComplete() {
    if (ended) {
      return;
    }
    try {
      splitter.finish();
    } catch (GatewayError e) {
      fail(e);
      return;
    }
    call.halfClose();
  }

  @Override
  public void onError(Throwable t) {
    if (ended) {
      return;
    }
    ended = true;
    // Nothing is finished on a cut body: the service keeps what it committed, publishes nothing.
    call.cancel("the HTTP request body failed", t);
    result.complete(
        new GatewayError(
            Status.CANCELLED.withDescription("the request body was cut off: the connection closed or the stream was reset"))
            .toResponse());
  }

  private void fail(GatewayError e) {
    ended = true;
    body.cancel();
    call.cancel(e.getMessage(), e);
    result.complete(e.toResponse());
  }

  private void closed(Status status, Message response, Metadata headers, Metadata trailers) {
    boolean wasEnded = ended;
    ended = true;
    if (body != null && !wasEnded) {
      body.cancel();
    }
    if (result.isDone()) {
      return;
    }
    try {
      if (!status.isOk()) {
        result.complete(replies.failure(status, headers, trailers));
      } else if (response == null) {
        result.complete(
            replies.failure(
                Status.INTERNAL.withDescription("the call returned no message"), headers, trailers));
      } else {
        result.complete(replies.message(response, headers, trailers));
      }
    } catch (GatewayError e) {
      result.complete(e.toResponse());
    }
  }
}
