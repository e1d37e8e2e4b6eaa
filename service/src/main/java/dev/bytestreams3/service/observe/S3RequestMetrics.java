package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import dev.bytestreams3.storage.s3.S3RequestAttributes;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Times every S3 request the store makes (retries included) by operation, by the Remote Execution
 * API instance it serves ({@code reapi_instance}, see {@link S3RequestInstances}) and by outcome:
 * {@code success}, or {@code error} with the HTTP status S3 answered ({@code none} when no answer
 * came). The instance label is not called {@code instance}, which Prometheus gives the scraped
 * server.
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

  private static final ExecutionAttribute<String> INSTANCE =
      new ExecutionAttribute<>("bs3.reapiInstance");

  private final MeterRegistry registry;
  private final S3RequestInstances instances;

  /** Counts into {@code registry}, with every named instance up to the first 20 as its own label. */
  public S3RequestMetrics(MeterRegistry registry) {
    this(registry, "", Optional.empty());
  }

  /**
   * Counts into {@code registry} the requests of a store with {@code keyPrefix}, labelling each of
   * the {@code served} instances (empty: every instance is served) by name.
   */
  public S3RequestMetrics(
      MeterRegistry registry, String keyPrefix, Optional<Set<String>> served) {
    this.registry = requireNonNull(registry, "registry");
    this.instances = new S3RequestInstances(keyPrefix, served);
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    attributes.putAttribute(START, System.nanoTime());
    String blobKey = attributes.getAttribute(S3RequestAttributes.BLOB_KEY);
    attributes.putAttribute(
        INSTANCE,
        blobKey != null
            ? instances.ofBlobKey(blobKey)
            : instances.ofS3Key(context.request().getValueForField("Key", String.class).orElse(null)));
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
    String instance = attributes.getAttribute(INSTANCE);
    Timer.builder("s3.requests")
        .description("S3 requests by operation, instance and outcome, with their duration")
        .tag("operation", operation == null ? "unknown" : operation)
        .tag("reapi_instance", instance == null ? S3RequestInstances.NONE : instance)
        .tag("outcome", outcome)
        .tag("http_status", httpStatus)
        .serviceLevelObjectives(BUCKETS)
        .register(registry)
        .record(Duration.ofNanos(start == null ? 0 : System.nanoTime() - start));
  }
}
