package dev.bytestreams3.service.gateway;

import com.google.protobuf.Message;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * One server-streaming call as a chunked NDJSON response: a {@code {"result":...}} line per
 * message, each written as it comes. A message is requested only once the HTTP connection took
 * the one before the last, so a slow HTTP reader slows the call. A failure before the first message
 * gets its mapped HTTP status and one {@code {"error":...}} line; after it, a last error line.
 */
final class ServerStreamExchange {

  static final MediaType NDJSON = MediaType.parse("application/x-ndjson");

  private final ClientCall<Message, Message> call;
  private final Metadata metadata;
  private final HttpResponseWriter response = HttpResponse.streaming();
  private boolean headersSent;

  ServerStreamExchange(ClientCall<Message, Message> call, Metadata metadata) {
    this.call = call;
    this.metadata = metadata;
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
          @Override
          public void onMessage(Message m) {
            byte[] line;
            try {
              line = BulkBytesJson.resultLine(m);
            } catch (GatewayError e) {
              call.cancel("cannot print a response", e);
              return;
            }
            sendHeadersOnce(ResponseHeaders.builder(com.linecorp.armeria.common.HttpStatus.OK)
                .contentType(NDJSON).build());
            if (response.tryWrite(HttpData.wrap(line))) {
              response.whenConsumed().thenRun(() -> call.request(1));
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            if (status.isOk()) {
              sendHeadersOnce(ResponseHeaders.builder(com.linecorp.armeria.common.HttpStatus.OK)
                  .contentType(NDJSON).build());
            } else {
              sendHeadersOnce(ResponseHeaders.builder(HttpStatuses.of(status.getCode()))
                  .contentType(NDJSON)
                  .add("grpc-status", Integer.toString(status.getCode().value()))
                  .build());
              response.tryWrite(HttpData.ofUtf8(GatewayError.streamLine(status)));
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
