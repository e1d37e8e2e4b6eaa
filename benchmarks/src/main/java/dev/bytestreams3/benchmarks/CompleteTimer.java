package dev.bytestreams3.benchmarks;

import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;

/**
 * Adds up how long the S3 server took to answer CompleteMultipartUpload requests, from the moment
 * the request was sent to the moment its response came back: the time a multipart write waits
 * after its last part, which S3Mock spends assembling the object.
 */
final class CompleteTimer implements ExecutionInterceptor {

  private static final ExecutionAttribute<Long> SENT = new ExecutionAttribute<>("complete-sent");

  private final AtomicLong nanos = new AtomicLong();

  @Override
  public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
    if (context.request() instanceof CompleteMultipartUploadRequest) {
      attributes.putAttribute(SENT, System.nanoTime());
    }
  }

  @Override
  public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
    Long sent = attributes.getAttribute(SENT);
    if (sent != null) {
      nanos.addAndGet(System.nanoTime() - sent);
    }
  }

  /** Seconds spent waiting on CompleteMultipartUpload since the last call, and starts again. */
  double takeSeconds() {
    return nanos.getAndSet(0) / 1e9;
  }
}
