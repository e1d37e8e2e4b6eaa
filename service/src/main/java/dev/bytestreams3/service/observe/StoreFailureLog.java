package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Logs S3 being unavailable once per burst, not once per request: the first S3 request that fails
 * after its retries with a 5xx, throttling, a broken connection or a timeout writes one {@code
 * store-unavailable} line with its cause; failures less than {@code quiet} apart belong to the
 * same burst and are only counted, with one more line per {@code repeatEvery} while the burst
 * lasts. The first success at least {@code quiet} after the last failure writes {@code
 * store-available} with the burst's count. Answers S3 gives by design (404, 412) are not failures.
 * Thread-safe.
 */
public final class StoreFailureLog implements ExecutionInterceptor {

  private static final int MAX_CAUSE_CHARS = 200;

  private final EventLog events;
  private final long quietNanos;
  private final long repeatNanos;
  private final LongSupplier nanoClock;

  private volatile boolean inBurst;
  private long lastFailureNanos;
  private long lastLineNanos;
  private long sinceLastLine;
  private long inThisBurst;

  /** Bursts end after 30 s without a failure; a long burst is logged again every minute. */
  public StoreFailureLog(EventLog events) {
    this(events, Duration.ofSeconds(30), Duration.ofMinutes(1), System::nanoTime);
  }

  StoreFailureLog(EventLog events, Duration quiet, Duration repeatEvery, LongSupplier nanoClock) {
    this.events = requireNonNull(events, "events");
    this.quietNanos = quiet.toNanos();
    this.repeatNanos = repeatEvery.toNanos();
    this.nanoClock = requireNonNull(nanoClock, "nanoClock");
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    succeededNow();
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
    Throwable t = context.exception();
    if (isUnavailable(t)) {
      String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
      failed(operation == null ? "unknown" : operation, t);
    }
  }

  /** Records a failed request of {@code operation}; logs it when it starts a burst or is due. */
  synchronized void failed(String operation, Throwable cause) {
    long now = nanoClock.getAsLong();
    if (!inBurst || now - lastFailureNanos >= quietNanos) {
      inBurst = true;
      inThisBurst = 1;
      sinceLastLine = 0;
      lastLineNanos = now;
      events.warn(
          "store-unavailable",
          "message", "S3 requests fail after their retries; calls needing S3 answer UNAVAILABLE."
              + " Further failures are counted, not logged, until S3 answers again",
          "operation", operation,
          "cause", describe(cause));
    } else {
      inThisBurst++;
      sinceLastLine++;
      if (now - lastLineNanos >= repeatNanos) {
        events.warn(
            "store-unavailable",
            "message", "S3 still failing",
            "failures_since_last_line", sinceLastLine,
            "operation", operation,
            "cause", describe(cause));
        sinceLastLine = 0;
        lastLineNanos = now;
      }
    }
    lastFailureNanos = now;
  }

  private synchronized void succeeded() {
    long now = nanoClock.getAsLong();
    if (inBurst && now - lastFailureNanos >= quietNanos) {
      inBurst = false;
      events.info(
          "store-available",
          "message", "S3 answers again",
          "failures_in_burst", inThisBurst);
    }
  }

  /** Reports a request that succeeded: ends a burst once it has been quiet long enough. */
  void succeededNow() {
    if (inBurst) {
      succeeded();
    }
  }

  /** A 5xx or throttling answer, a broken or refused connection, or a timeout. */
  static boolean isUnavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof SdkServiceException e) {
        return e.statusCode() >= 500 || e.statusCode() == 429 || e.isThrottlingException();
      }
      if (c instanceof ApiCallTimeoutException
          || c instanceof ApiCallAttemptTimeoutException
          || c instanceof IOException
          || c instanceof TimeoutException) {
        return true;
      }
    }
    return false;
  }

  /** The cause in one short line: S3's status and code, or the innermost exception's message. */
  private static String describe(Throwable t) {
    String text;
    if (t instanceof SdkServiceException e) {
      String code =
          e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException a
                  && a.awsErrorDetails() != null
              ? " " + a.awsErrorDetails().errorCode()
              : "";
      text = "HTTP " + e.statusCode() + code;
    } else {
      Throwable root = t;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      text =
          root.getClass().getSimpleName()
              + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
    return text.length() <= MAX_CAUSE_CHARS ? text : text.substring(0, MAX_CAUSE_CHARS) + "...";
  }
}
