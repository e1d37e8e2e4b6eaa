package dev.bytestreams3.service.gateway;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.bytestreams3.service.resource.ResourceName;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.buffer.Unpooled;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One {@code GET} or {@code HEAD} of raw bytes: finds the size, resolves the range, then streams
 * a {@code Read} into the response, asking for the next chunk only once the connection took the
 * last one.
 */
final class RawDownload {

  private final Channel channel;
  private final String resource;
  private final ResourceName name;
  private final RequestHeaders headers;
  private final boolean head;
  private final ServiceRequestContext ctx;

  RawDownload(
      Channel channel,
      String resource,
      ResourceName name,
      RequestHeaders headers,
      boolean head,
      ServiceRequestContext ctx) {
    this.channel = channel;
    this.resource = resource;
    this.name = name;
    this.headers = headers;
    this.head = head;
    this.ctx = ctx;
  }

  HttpResponse run() {
    if (name.kind() == ResourceName.Kind.BLOB) {
      return head ? stream(0, 1, name.size(), null) : ranged(name.size());
    }
    CompletableFuture<HttpResponse> answer =
        RawRoutes.queryWriteStatus(channel, resource, ctx.eventLoop())
            .handle(
                (s, err) -> {
                  try {
                    if (err != null) {
                      throw new GatewayError(dev.bytestreams3.service.GrpcStatuses.of(unwrap(err)));
                    }
                    return afterStatus(s);
                  } catch (GatewayError e) {
                    return head ? headError(e) : e.toResponse();
                  }
                });
    return HttpResponse.of(answer);
  }

  private HttpResponse afterStatus(QueryWriteStatusResponse s) {
    if (head) {
      ResponseHeadersBuilder b =
          RawRoutes.statusHeaders(ResponseHeaders.builder(HttpStatus.OK), s)
              .set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
      if (s.getComplete()) {
        b.contentType(MediaType.OCTET_STREAM).contentLength(s.getCommittedSize());
      }
      return HttpResponse.of(b.build());
    }
    if (name.kind() == ResourceName.Kind.BLOB_UPLOAD) {
      throw GatewayError.invalid(
          "'" + resource + "' is an upload name; GET " + RawRoutes.PREFIX
              + "{instance/}blobs/{hash}/{size} to read the blob");
    }
    if (!s.getComplete()) {
      throw new GatewayError(
          Status.NOT_FOUND.withDescription(
              "'" + resource + "' is still being written (" + s.getCommittedSize()
                  + " bytes committed)"));
    }
    return ranged(s.getCommittedSize());
  }

  private static HttpResponse headError(GatewayError e) {
    return HttpResponse.of(
        ResponseHeaders.builder(e.httpStatus())
            .add("grpc-status", Integer.toString(e.status().getCode().value()))
            .add("grpc-message", String.valueOf(e.status().getDescription()))
            .build());
  }

  private HttpResponse ranged(long size) {
    Optional<ByteRange> range;
    try {
      range = ByteRange.parse(headers.get(HttpHeaderNames.RANGE), size);
    } catch (ByteRange.Unsatisfiable e) {
      HttpResponse r =
          new GatewayError(
                  Status.OUT_OF_RANGE.withDescription(
                      "range " + headers.get(HttpHeaderNames.RANGE) + " is outside '" + resource
                          + "' (" + size + " bytes)"),
                  HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
              .toResponse();
      return r.mapHeaders(h -> h.toBuilder().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size).build());
    }
    return range
        .map(r -> stream(r.first(), r.length(), size, r))
        .orElseGet(() -> stream(0, size, size, null));
  }

  /** Streams {@code [offset, offset + length)}; a HEAD sends only the headers once it exists. */
  private HttpResponse stream(long offset, long length, long size, ByteRange range) {
    ResponseHeadersBuilder ok =
        ResponseHeaders.builder(range == null ? HttpStatus.OK : HttpStatus.PARTIAL_CONTENT)
            .contentType(MediaType.OCTET_STREAM)
            .set(HttpHeaderNames.ACCEPT_RANGES, "bytes")
            .contentLength(head ? size : length);
    if (range != null) {
      ok.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + range.first() + "-" + range.last() + "/" + size);
    }
    ResponseHeaders okHeaders = ok.build();
    HttpResponseWriter out = HttpResponse.streaming();
    ClientCall<ReadRequest, ReadResponse> call =
        channel.newCall(ByteStreamGrpc.getReadMethod(), CallOptions.DEFAULT);
    out.whenComplete()
        .exceptionally(
            t -> {
              call.cancel("the HTTP client went away", t);
              return null;
            });
    boolean empty = length == 0;
    call.start(
        new ClientCall.Listener<>() {
          private boolean started;

          @Override
          public void onMessage(ReadResponse m) {
            if (!started) {
              started = true;
              out.tryWrite(okHeaders);
              if (head) {
                out.close();
                call.cancel("HEAD needs no bytes", null);
                return;
              }
            }
            if (out.tryWrite(HttpData.wrap(Unpooled.wrappedBuffer(m.getData().asReadOnlyByteBuffer())))) {
              out.whenConsumed().thenRun(() -> call.request(1));
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            if (status.isOk()) {
              if (!started) {
                out.tryWrite(okHeaders);
              }
              out.close();
            } else if (!started) {
              GatewayError e = new GatewayError(status);
              out.tryWrite(
                  ResponseHeaders.builder(e.httpStatus())
                      .contentType(MediaType.JSON_UTF_8)
                      .add("grpc-status", Integer.toString(status.getCode().value()))
                      .build());
              if (!head) {
                out.tryWrite(HttpData.ofUtf8(GatewayError.json(status)));
              }
              out.close();
            } else if (!head) {
              // The bytes already went out with a 200: all that is left is to cut the response.
              out.close(status.asRuntimeException());
            }
          }
        },
        new Metadata());
    call.sendMessage(
        ReadRequest.newBuilder()
            .setResourceName(resource)
            .setReadOffset(offset)
            .setReadLimit(empty ? 0 : length)
            .build());
    call.halfClose();
    call.request(1);
    return out;
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
