package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Times every S3 request the store makes (retries included) by operation and outcome: {@code
 * success}, or {@code error} with the HTTP status S3 answered ({@code none} when no answer came).
 */
public final class S3RequestMetrics implements ExecutionInterceptor {

  private static final ExecutionAttribute<Long> START = new ExecutionAttribute<>("bs3.start");

  /** Latency buckets from a small HEAD to a slow part upload. */
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
    Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
    Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
    Duration.ofSeconds(60)
  };

  private final MeterRegistry registry;

  public S3RequestMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    attributes.putAttribute(START, System.nanoTime());
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    record(attributes, "success", String.valueOf(context.httpResponse().statusCode()));
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
    Throwable t = context.exception();
    String status =
        t instanceof SdkServiceException e && e.statusCode() > 0
            ? String.valueOf(e.statusCode())
            : "none";
    record(attributes, "error", status);
  }

  private void record(ExecutionAttributes attributes, String outcome, String httpStatus) {
    Long start = attributes.getAttribute(START);
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    Timer.builder("s3.requests")
        .description("S3 requests by operation and outcome, with their duration")
        .tag("operation", operation == null ? "unknown" : operation)
        .tag("outcome", outcome)
        .tag("http_status", httpStatus)
        .serviceLevelObjectives(BUCKETS)
        .register(registry)
        .record(Duration.ofNanos(start == null ? 0 : System.nanoTime() - start));
  }
}
