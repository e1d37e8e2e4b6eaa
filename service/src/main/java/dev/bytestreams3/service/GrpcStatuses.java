package dev.bytestreams3.service;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns every failure the services see into the gRPC {@link Status} a client receives. */
public final class GrpcStatuses {

  private GrpcStatuses() {}

  /**
   * The longest description a status carries: longer ones are cut, so that a message can never
   * outgrow the trailers a client accepts (8 KiB of headers by default).
   */
  static final int MAX_DESCRIPTION_CHARS = 1024;

  /** Returns the status for {@code t}, keeping {@code t} as its cause. */
  public static Status of(Throwable t) {
    Status s = unbounded(t);
    String d = s.getDescription();
    if (d != null && d.length() > MAX_DESCRIPTION_CHARS) {
      return s.withDescription(
          d.substring(0, MAX_DESCRIPTION_CHARS) + "... (" + d.length() + " characters, cut)");
    }
    return s;
  }

  private static Status unbounded(Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (c instanceof StatusException e) {
      return e.getStatus();
    }
    if (c instanceof StorageException e) {
      return forStorage(e).withDescription(withoutClassNames(e.getMessage())).withCause(e);
    }
    if (c instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(c.getMessage()).withCause(c);
    }
    if (c instanceof CancellationException) {
      return Status.CANCELLED.withDescription("cancelled").withCause(c);
    }
    return Status.INTERNAL
        .withDescription(
            c.getMessage() == null ? "internal error" : "internal error: " + withoutClassNames(c.getMessage()))
        .withCause(c);
  }

  /**
   * Returns the status for {@code t} in a call about {@code resourceName}: the store's key of it,
   * {@code key}, is a detail of our layout, so a message names the resource as the client sent it.
   */
  public static Status of(Throwable t, String resourceName, BlobKey key) {
    Status s = of(t);
    if (!(unwrap(t) instanceof StorageException e) || s.getDescription() == null) {
      return s;
    }
    if (e.reason() == StorageException.Reason.NOT_FOUND) {
      return s.withDescription("'" + resourceName + "' not found");
    }
    // The key may follow a prefix of the bucket's (an S3 object key): the prefix goes too.
    return s.withDescription(
        s.getDescription()
            .replaceAll("\\S*" + Pattern.quote(key.value()), Matcher.quoteReplacement("'" + resourceName + "'")));
  }

  /** Returns {@link #of} as an exception for a {@code StreamObserver}. */
  public static StatusRuntimeException exception(Throwable t) {
    return of(t).asRuntimeException();
  }

  /** Returns {@link #of(Throwable, String, BlobKey)} as an exception for a {@code StreamObserver}. */
  public static StatusRuntimeException exception(Throwable t, String resourceName, BlobKey key) {
    return of(t, resourceName, key).asRuntimeException();
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
      case CONFLICT:
        return Status.ABORTED;
      case ACCESS_DENIED:
      case INTERNAL:
      default:
        // The client cannot fix our backend's permissions; it is our failure, not theirs.
        return Status.INTERNAL;
    }
  }

  /**
   * {@code message} without the qualified names of Java classes that a cause's text brings
   * ({@code java.io.IOException: ...}): the client learns what failed, not how we are built.
   */
  static String withoutClassNames(String message) {
    return message == null ? null : CLASS_NAME.matcher(message).replaceAll("");
  }

  /** A qualified name of an exception class, and the colon its text follows. */
  private static final Pattern CLASS_NAME =
      Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
