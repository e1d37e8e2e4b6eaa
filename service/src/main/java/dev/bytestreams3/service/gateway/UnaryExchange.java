package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpResponse;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;

/** One unary call: the response message as JSON, not wrapped, or the status as JSON. */
final class UnaryExchange {

  private final ClientCall<Message, Message> call;
  private final Metadata metadata;
  private final Replies replies;

  UnaryExchange(ClientCall<Message, Message> call, Metadata metadata, Replies replies) {
    this.call = call;
    this.metadata = metadata;
    this.replies = replies;
  }

  HttpResponse run(Message request) {
    CompletableFuture<HttpResponse> result = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          private Metadata headers;
          private Message response;

          @Override
          public void onHeaders(Metadata h) {
            headers = h;
          }

          @Override
          public void onMessage(Message m) {
            response = m;
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
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
        },
        metadata);
    call.request(2);
    call.sendMessage(request);
    call.halfClose();
    return HttpResponse.of(result);
  }
}
