package dev.bytestreams3.service.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import java.util.ArrayDeque;

/**
 * Answers HTTP/1.0 requests in HTTP/1.0, which has no chunked transfer coding: a response of
 * unknown length goes out with an {@code HTTP/1.0} status line, its body plain and
 * {@code Connection: close}, and the connection closes after it, which is how HTTP/1.0 ends such
 * a body. The HTTP library would otherwise send such a response chunked, as to an HTTP/1.1 client.
 *
 * <p>It works on the connection's HTTP/1 messages, just before the HTTP library's request
 * decoder. That decoder only appears once the first bytes of a connection show it is not HTTP/2,
 * so a small handler first in the pipeline lets the first four bytes through alone, puts the real
 * handler in place before the decoder they created, then lets the rest through. Should a later
 * version of the library name its decoder differently, the handler is not put in place and HTTP/1.0
 * responses are chunked as before (the tests say so).
 */
final class Http10Responses {

  private static final String REQUEST_DECODER = "com.linecorp.armeria.server.Http1RequestDecoder";

  /** Reads a connection sees without an HTTP/1 codec before it stops looking (HTTP/2, TLS). */
  private static final int MAX_READS_WITHOUT_CODEC = 16;

  private Http10Responses() {}

  /** Adds the handler to a new connection's pipeline. */
  static void install(ChannelPipeline p) {
    p.addFirst(new Installer());
  }

  /** Puts {@link Framing} behind the HTTP/1 codec once there is one, then leaves. */
  private static final class Installer extends ChannelInboundHandlerAdapter {

    private int reads;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (installed(ctx)) {
        ctx.fireChannelRead(msg);
        return;
      }
      if (reads++ == 0 && msg instanceof ByteBuf b && b.readableBytes() > 4) {
        // Four bytes are what the library looks at to choose between HTTP/2 and HTTP/1.
        ctx.fireChannelRead(b.readRetainedSlice(4));
        if (installed(ctx)) {
          ctx.fireChannelRead(b);
          return;
        }
      }
      ctx.fireChannelRead(msg);
      if (!installed(ctx) && (reads >= MAX_READS_WITHOUT_CODEC
          || ctx.pipeline().get(Http2ConnectionHandler.class) != null)) {
        ctx.pipeline().remove(this);
      }
    }

    private boolean installed(ChannelHandlerContext ctx) {
      ChannelPipeline p = ctx.pipeline();
      for (java.util.Map.Entry<String, io.netty.channel.ChannelHandler> e : p) {
        // The library's own HTTP/1 request decoder (not public), which turns the codec's
        // messages into requests: what it reads and writes is plain HTTP/1 messages.
        if (e.getValue().getClass().getName().equals(REQUEST_DECODER)) {
          p.addBefore(e.getKey(), null, new Framing());
          p.remove(this);
          return true;
        }
      }
      return false;
    }
  }

  /** Notes each request's version and frames the responses to HTTP/1.0 requests. */
  private static final class Framing extends ChannelDuplexHandler {

    /** Whether each request not yet answered is HTTP/1.0, in order. */
    private final ArrayDeque<Boolean> pending = new ArrayDeque<>();
    private boolean closeAfterBody;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest r) {
        pending.add(r.protocolVersion().equals(HttpVersion.HTTP_1_0));
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof HttpResponse r && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
        Boolean http10 = pending.poll();
        if (Boolean.TRUE.equals(http10)) {
          r.setProtocolVersion(HttpVersion.HTTP_1_0);
          if (HttpUtil.isTransferEncodingChunked(r)) {
            r.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            closeAfterBody = true;
          }
        }
      }
      if (msg instanceof LastHttpContent && closeAfterBody) {
        closeAfterBody = false;
        ChannelPromise p = promise.isVoid() ? ctx.newPromise() : promise;
        ctx.write(msg, p);
        p.addListener(ChannelFutureListener.CLOSE);
        return;
      }
      ctx.write(msg, promise);
    }
  }
}
