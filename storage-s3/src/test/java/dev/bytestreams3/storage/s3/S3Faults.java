package dev.bytestreams3.storage.s3;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Fails chosen S3 requests before they are sent, as a broken connection would: the next {@code n}
 * requests of an operation, armed by the test. The request never reaches S3.
 */
final class S3Faults implements ExecutionInterceptor {

  private final ConcurrentHashMap<String, AtomicInteger> armed = new ConcurrentHashMap<>();
  private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();
  private final AtomicInteger failed = new AtomicInteger();

  /** Fails the next {@code n} requests of {@code operation} (e.g. "UploadPart"). */
  void failNext(String operation, int n) {
    armed.computeIfAbsent(operation, o -> new AtomicInteger()).addAndGet(n);
  }

  /** Requests failed so far. */
  int failed() {
    return failed.get();
  }

  /** Whether a request of {@code operation} was failed. */
  boolean failedAny(String operation) {
    return failedOnce.contains(operation);
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attrs) {
    String op = attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    AtomicInteger left = armed.get(op);
    if (left != null && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      failed.incrementAndGet();
      failedOnce.add(op);
      throw SdkClientException.create("injected failure of " + op);
    }
  }
}
