package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures every call (method, resource, status, bytes each way, duration) and hands the result
 * to its {@link CallListener}s once the call has ended. Install it outermost, so that calls other
 * interceptors refuse are measured too.
 */
public final class CallRecorder implements ServerInterceptor {

  private final List<CallListener> listeners;
  private final Clock clock;

  public CallRecorder(List<CallListener> listeners, Clock clock) {
    this.listeners = List.copyOf(requireNonNull(listeners, "listeners"));
    this.clock = requireNonNull(clock, "clock");
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Recording r = new Recording(call.getMethodDescriptor().getFullMethodName());
    ServerCall<ReqT, RespT> measured =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void sendMessage(RespT message) {
            r.bytesOut.addAndGet(sizeOf(message));
            super.sendMessage(message);
          }

          @Override
          public void close(Status status, Metadata trailers) {
            // Recorded before the client can see the end, so the record is complete by then.
            r.end(status);
            super.close(status, trailers);
          }
        };
    ServerCall.Listener<ReqT> inner;
    try {
      inner = next.startCall(measured, headers);
    } catch (RuntimeException e) {
      r.end(Status.INTERNAL.withDescription("the call could not start"));
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(inner) {
      @Override
      public void onMessage(ReqT message) {
        if (r.resource == null) {
          r.resource = RequestTarget.nameOf(message);
        }
        r.bytesIn.addAndGet(sizeOf(message));
        super.onMessage(message);
      }

      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          r.end(Status.OK);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          // Only calls the server never closed end here first: the client went away.
          r.end(Status.CANCELLED.withDescription("cancelled by the client"));
        }
      }
    };
  }

  private static long sizeOf(Object message) {
    return message instanceof MessageLite m ? m.getSerializedSize() : 0;
  }

  /** The measurements of one call. */
  private final class Recording {
    final String method;
    final Instant start;
    final long startNanos = System.nanoTime();
    final AtomicLong bytesIn = new AtomicLong();
    final AtomicLong bytesOut = new AtomicLong();
    final AtomicBoolean ended = new AtomicBoolean();
    volatile String resource;

    Recording(String method) {
      this.method = method;
      this.start = clock.instant();
      for (CallListener l : listeners) {
        l.started(method);
      }
    }

    void end(Status status) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      CallRecord record =
          new CallRecord(
              start,
              method,
              resource == null ? "" : resource,
              status.getCode(),
              status.getDescription() == null ? "" : status.getDescription(),
              bytesIn.get(),
              bytesOut.get(),
              Duration.ofNanos(System.nanoTime() - startNanos));
      for (CallListener l : listeners) {
        l.finished(record);
      }
    }
  }
}
