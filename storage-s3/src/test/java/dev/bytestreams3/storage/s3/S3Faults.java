package dev.bytestreams3.storage.s3;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Fails chosen S3 requests before they are sent, as a broken connection would: the next {@code n}
 * requests of an operation, armed by the test. The request never reaches S3. Or loses the response
 * of a request S3 has carried out, as a connection reset after the request was processed would.
 */
final class S3Faults implements ExecutionInterceptor {

  private final ConcurrentHashMap<String, AtomicInteger> armed = new ConcurrentHashMap<>();
  private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();
  private final AtomicInteger failed = new AtomicInteger();
  private final ConcurrentHashMap<String, Runnable> before = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Runnable> lost = new ConcurrentHashMap<>();
  private volatile Set<String> loseFirstResponses = Set.of();
  private static final ExecutionAttribute<Boolean> FIRST_RESPONSE_LOST =
      new ExecutionAttribute<>("S3Faults.firstResponseLost");
  private volatile java.util.Random chaos;
  private volatile double failChance;
  private volatile int maxDelayMillis;
  private volatile Set<String> chaosOperations = Set.of();

  /**
   * From now on fails each request of {@code operations} with chance {@code failChance} and
   * delays each by up to {@code maxDelayMillis}, drawn from {@code seed}; {@code failChance} 0
   * and no operations turn it off.
   */
  void chaos(long seed, double failChance, int maxDelayMillis, Set<String> operations) {
    this.failChance = failChance;
    this.maxDelayMillis = maxDelayMillis;
    this.chaosOperations = Set.copyOf(operations);
    this.chaos = new java.util.Random(seed);
  }

  /** Runs {@code action} just before the next request of {@code operation} is sent. */
  void beforeNext(String operation, Runnable action) {
    before.put(operation, action);
  }

  /**
   * Loses the response to the next request of {@code operation} once S3 has answered it, then
   * runs {@code meanwhile} before the SDK learns of the loss (and retries).
   */
  void loseNextResponse(String operation, Runnable meanwhile) {
    lost.put(operation, meanwhile);
  }

  /**
   * From now on loses the response to the first attempt of every request of {@code operations},
   * after S3 has taken its body and answered, so that the SDK sends every body twice; no
   * operations turn it off.
   */
  void loseFirstResponses(Set<String> operations) {
    loseFirstResponses = Set.copyOf(operations);
  }

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
  public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attrs) {
    String op = attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    if (!context.httpResponse().isSuccessful()) {
      return;
    }
    if (loseFirstResponses.contains(op) && attrs.getAttribute(FIRST_RESPONSE_LOST) == null) {
      attrs.putAttribute(FIRST_RESPONSE_LOST, true);
      failed.incrementAndGet();
      failedOnce.add(op);
      throw SdkClientException.builder()
          .message("injected loss of the first response to " + op)
          .cause(new java.io.IOException("Connection reset by peer"))
          .build();
    }
    Runnable meanwhile = lost.remove(op);
    if (meanwhile != null) {
      failed.incrementAndGet();
      failedOnce.add(op);
      meanwhile.run();
      throw SdkClientException.builder()
          .message("injected loss of the response to " + op)
          .cause(new java.io.IOException("Connection reset by peer"))
          .build();
    }
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attrs) {
    String op = attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    Runnable action = before.remove(op);
    if (action != null) {
      action.run();
    }
    if (chaosOperations.contains(op)) {
      double roll;
      int delay;
      synchronized (this) {
        roll = chaos.nextDouble();
        delay = maxDelayMillis <= 0 ? 0 : chaos.nextInt(maxDelayMillis + 1);
      }
      if (delay > 0) {
        try {
          Thread.sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (roll < failChance) {
        failed.incrementAndGet();
        failedOnce.add(op);
        throw SdkClientException.create("injected failure of " + op);
      }
    }
    AtomicInteger left = armed.get(op);
    if (left != null && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      failed.incrementAndGet();
      failedOnce.add(op);
      throw SdkClientException.create("injected failure of " + op);
    }
  }
}
