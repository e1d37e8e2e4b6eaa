package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

/** A failed store operation, with a reason a transport can map to its own status. */
public final class StorageException extends RuntimeException {

  /** Why a store operation failed. */
  public enum Reason {
    /** No blob or upload with that name. */
    NOT_FOUND,
    /** A blob already exists where the upload may not replace it. */
    ALREADY_EXISTS,
    /** An offset past the end of a blob. */
    OUT_OF_RANGE,
    /** Content ended at a size other than the one declared. */
    SIZE_MISMATCH,
    /** A blob larger than the caller may hold in memory; nothing of it was buffered. */
    TOO_LARGE,
    /** Content does not hash to the declared digest. */
    DIGEST_MISMATCH,
    /** A request the store cannot serve as asked (for example, larger than a backend limit). */
    INVALID_REQUEST,
    /** The backend refused our credentials or permissions. */
    ACCESS_DENIED,
    /** The backend could not be reached or answered with a retryable error. */
    UNAVAILABLE,
    /**
     * Another operation changed the upload or the blob meanwhile (another writer holds the
     * upload, replaced a part or ended the upload; the blob was replaced during a read): nothing
     * wrong was stored or served, and trying again may succeed.
     */
    CONFLICT,
    /** The operation was cancelled by its caller. */
    CANCELLED,
    /** Anything else: an unexpected backend answer or a local I/O failure. */
    INTERNAL
  }

  private final Reason reason;

  public StorageException(Reason reason, String message) {
    this(reason, message, null);
  }

  public StorageException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = requireNonNull(reason, "reason");
  }

  /** Why the operation failed. */
  public Reason reason() {
    return reason;
  }

  /**
   * Returns the {@code StorageException} behind {@code t}, unwrapping completion wrappers, or an
   * {@code INTERNAL} one carrying {@code t}.
   */
  public static StorageException from(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof StorageException) {
      return (StorageException) c;
    }
    if (c instanceof java.util.concurrent.CancellationException) {
      return new StorageException(Reason.CANCELLED, "cancelled", c);
    }
    return new StorageException(Reason.INTERNAL, String.valueOf(c.getMessage()), c);
  }
}
