package dev.bytestreams3.service;

import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns every failure the services see into the gRPC {@link Status} a client receives. */
public final class GrpcStatuses {

  private GrpcStatuses() {}

  /** Returns the status for {@code t}, keeping {@code t} as its cause. */
  public static Status of(Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (c instanceof StatusException e) {
      return e.getStatus();
    }
    if (c instanceof StorageException e) {
      return forStorage(e).withDescription(e.getMessage()).withCause(e);
    }
    if (c instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(c.getMessage()).withCause(c);
    }
    if (c instanceof CancellationException) {
      return Status.CANCELLED.withDescription("cancelled").withCause(c);
    }
    return Status.INTERNAL.withDescription("internal error: " + c).withCause(c);
  }

  /** Returns {@link #of} as an exception for a {@code StreamObserver}. */
  public static StatusRuntimeException exception(Throwable t) {
    return of(t).asRuntimeException();
  }

  /** Returns {@link #of} in the form carried inside batch responses. */
  public static com.google.rpc.Status toProto(Throwable t) {
    Status s = of(t);
    com.google.rpc.Status.Builder b = com.google.rpc.Status.newBuilder().setCode(s.getCode().value());
    if (s.getDescription() != null) {
      b.setMessage(s.getDescription());
    }
    return b.build();
  }

  /** The {@code OK} status of a batch response. */
  public static com.google.rpc.Status ok() {
    return com.google.rpc.Status.newBuilder().setCode(Status.Code.OK.value()).build();
  }

  private static Status forStorage(StorageException e) {
    switch (e.reason()) {
      case NOT_FOUND:
        return Status.NOT_FOUND;
      case ALREADY_EXISTS:
        return Status.ALREADY_EXISTS;
      case OUT_OF_RANGE:
        return Status.OUT_OF_RANGE;
      case SIZE_MISMATCH:
      case DIGEST_MISMATCH:
      case INVALID_REQUEST:
      case TOO_LARGE:
        return Status.INVALID_ARGUMENT;
      case UNAVAILABLE:
        return Status.UNAVAILABLE;
      case CANCELLED:
        return Status.CANCELLED;
      case ACCESS_DENIED:
      case INTERNAL:
      default:
        // The client cannot fix our backend's permissions; it is our failure, not theirs.
        return Status.INTERNAL;
    }
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
