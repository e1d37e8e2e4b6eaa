package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;

/** One unary call: the response message as JSON, not wrapped, or the status as JSON. */
final class UnaryExchange {

  private final ClientCall<Message, Message> call;
  private final Metadata metadata;

  UnaryExchange(ClientCall<Message, Message> call, Metadata metadata) {
    this.call = call;
    this.metadata = metadata;
  }

  HttpResponse run(Message request) {
    CompletableFuture<HttpResponse> result = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          private Message response;

          @Override
          public void onMessage(Message m) {
            response = m;
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            try {
              if (!status.isOk()) {
                result.complete(new GatewayError(status).toResponse());
              } else if (response == null) {
                result.complete(
                    new GatewayError(Status.INTERNAL.withDescription("the call returned no message"))
                        .toResponse());
              } else {
                result.complete(
                    HttpResponse.of(
                        GatewayService.okJson(MediaType.JSON_UTF_8),
                        HttpData.ofUtf8(JsonMessages.print(response))));
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
