package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Turns every failure of an S3 call into a {@link StorageException}: the one place that knows
 * what S3's error codes mean. Messages name the bucket and key, never credentials.
 */
final class S3Errors {

  private S3Errors() {}

  /**
   * Maps {@code error} from the call described by {@code what} (e.g. "upload part 3") on {@code
   * key} of {@code bucket}.
   */
  static StorageException map(Throwable error, String what, String bucket, String key) {
    Throwable t = unwrap(error);
    if (t instanceof StorageException) {
      return (StorageException) t;
    }
    String where = what + " s3://" + bucket + "/" + key;
    if (t instanceof CancellationException) {
      return new StorageException(Reason.CANCELLED, where + ": cancelled", t);
    }
    if (t instanceof S3Exception) {
      S3Exception e = (S3Exception) t;
      String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      String detail =
          where + ": " + e.statusCode() + (code == null ? "" : " " + code)
              + (e.awsErrorDetails() == null || e.awsErrorDetails().errorMessage() == null
                  ? ""
                  : " (" + e.awsErrorDetails().errorMessage() + ")");
      return new StorageException(reasonOf(e.statusCode(), code), messageOf(code, bucket, detail), e);
    }
    if (t instanceof ApiCallTimeoutException || t instanceof ApiCallAttemptTimeoutException) {
      return new StorageException(Reason.UNAVAILABLE, where + ": timed out", t);
    }
    if (t instanceof SdkClientException) {
      // Connection refused or reset, DNS, TLS: S3 could not be reached.
      return new StorageException(Reason.UNAVAILABLE, where + ": " + t.getMessage(), t);
    }
    return new StorageException(Reason.INTERNAL, where + ": " + t, t);
  }

  /** Whether {@code error} says the key or upload does not exist. */
  static boolean isNotFound(Throwable error) {
    Throwable t = unwrap(error);
    if (t instanceof StorageException) {
      StorageException e = (StorageException) t;
      // A vanished multipart upload is a conflict to a writer, but still "not there" to a reader.
      return e.reason() == Reason.NOT_FOUND
          || (e.getCause() instanceof S3Exception && isNotFound(e.getCause()));
    }
    if (t instanceof S3Exception) {
      S3Exception e = (S3Exception) t;
      String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      return e.statusCode() == 404 && !"NoSuchBucket".equals(code);
    }
    return false;
  }

  /** Whether {@code error} says the multipart upload it names does not exist (any more). */
  static boolean isNoSuchUpload(Throwable error) {
    return "NoSuchUpload".equals(codeOf(error));
  }

  /** Whether {@code error} says a part Complete named is not there with that ETag. */
  static boolean isInvalidPart(Throwable error) {
    return "InvalidPart".equals(codeOf(error));
  }

  /** Whether {@code error} says a condition of the request did not hold (412). */
  static boolean isPreconditionFailed(Throwable error) {
    Throwable t = s3Cause(error);
    return t instanceof S3Exception e && e.statusCode() == 412;
  }

  private static String codeOf(Throwable error) {
    Throwable t = s3Cause(error);
    return t instanceof S3Exception e && e.awsErrorDetails() != null
        ? e.awsErrorDetails().errorCode()
        : null;
  }

  /** {@code error} without its wrappers, or the S3 error a mapped failure carries. */
  private static Throwable s3Cause(Throwable error) {
    Throwable t = unwrap(error);
    if (t instanceof StorageException && t.getCause() != null) {
      return unwrap(t.getCause());
    }
    return t;
  }

  private static Reason reasonOf(int status, String code) {
    if ("NoSuchBucket".equals(code)) {
      // A missing bucket is a setup mistake, not a missing blob: callers must not see NOT_FOUND.
      return Reason.INTERNAL;
    }
    if ("NoSuchUpload".equals(code) || "InvalidPart".equals(code)) {
      // Another writer ended the multipart upload, or replaced a part after this one sent it.
      return Reason.CONFLICT;
    }
    if ("NoSuchKey".equals(code) || status == 404) {
      return Reason.NOT_FOUND;
    }
    if ("ConditionalRequestConflict".equals(code) || status == 409) {
      return Reason.CONFLICT;
    }
    if ("PreconditionFailed".equals(code) || status == 412) {
      return Reason.ALREADY_EXISTS;
    }
    if ("InvalidRange".equals(code) || status == 416) {
      return Reason.OUT_OF_RANGE;
    }
    if ("SlowDown".equals(code) || "RequestTimeout".equals(code) || status >= 500 || status == 429) {
      return Reason.UNAVAILABLE;
    }
    if (status == 401 || status == 403) {
      return Reason.ACCESS_DENIED;
    }
    if ("EntityTooSmall".equals(code)
        || "EntityTooLarge".equals(code)
        || "InvalidPartOrder".equals(code)
        || "KeyTooLongError".equals(code)) {
      return Reason.INVALID_REQUEST;
    }
    return Reason.INTERNAL;
  }

  private static String messageOf(String code, String bucket, String detail) {
    if ("NoSuchBucket".equals(code)) {
      return "bucket '" + bucket + "' does not exist or is not reachable with these settings; "
          + detail;
    }
    return detail;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
