package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.ResponseHeaders;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * One server-streaming call as a chunked response of JSON lines ({@code application/json}, or
 * {@code application/x-ndjson} when the client asks for it): a {@code {"result":...}} line per
 * message, each written as it comes. A message is requested only once the HTTP connection took
 * the one before the last, so a slow HTTP reader slows the call. A failure before the first message
 * gets its mapped HTTP status and one {@code {"error":...}} line; after it, a last error line.
 */
final class ServerStreamExchange {

  private final ClientCall<Message, Message> call;
  private final Metadata metadata;
  private final Replies replies;
  private final HttpResponseWriter response = HttpResponse.streaming();
  private boolean headersSent;

  ServerStreamExchange(ClientCall<Message, Message> call, Metadata metadata, Replies replies) {
    this.call = call;
    this.metadata = metadata;
    this.replies = replies;
  }

  HttpResponse run(Message request) {
    response
        .whenComplete()
        .exceptionally(
            t -> {
              call.cancel("the HTTP client went away", t);
              return null;
            });
    call.start(
        new ClientCall.Listener<>() {
          private Metadata headers;

          @Override
          public void onHeaders(Metadata h) {
            headers = h;
          }

          @Override
          public void onMessage(Message m) {
            byte[] line;
            try {
              line = replies.resultLine(m);
            } catch (GatewayError e) {
              call.cancel("cannot print a response", e);
              return;
            }
            sendHeadersOnce(replies.streamHeaders(Status.OK, headers));
            if (response.tryWrite(HttpData.wrap(line))) {
              response.whenConsumed().thenRun(() -> call.request(1));
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            Status s = replies.inClientTerms(status);
            sendHeadersOnce(replies.streamHeaders(s, headers != null ? headers : trailers));
            if (!s.isOk()) {
              response.tryWrite(replies.errorLine(s));
            }
            response.close();
          }
        },
        metadata);
    call.sendMessage(request);
    call.halfClose();
    // One message ahead: the next is read and printed while the connection sends the last one.
    call.request(2);
    return response;
  }

  private void sendHeadersOnce(ResponseHeaders headers) {
    synchronized (this) {
      if (headersSent) {
        return;
      }
      headersSent = true;
    }
    response.tryWrite(headers);
  }
}
