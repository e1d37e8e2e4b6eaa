package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Call metrics: calls by method and status with a latency histogram, message bytes received and
 * sent by method, and the ByteStream uploads in flight.
 */
public final class RpcMetrics implements CallListener {

  /** The method whose calls are uploads. */
  static final String WRITE_METHOD = "google.bytestream.ByteStream/Write";

  /** Latency buckets from a small unary call to a long upload. */
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
    Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
    Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
    Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(900)
  };

  private final MeterRegistry registry;
  private final AtomicInteger uploadsInFlight = new AtomicInteger();

  public RpcMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
    Gauge.builder("bytestream.uploads.in.flight", uploadsInFlight, AtomicInteger::get)
        .description("ByteStream Write calls in progress")
        .register(registry);
  }

  @Override
  public void started(String method) {
    if (method.equals(WRITE_METHOD)) {
      uploadsInFlight.incrementAndGet();
    }
  }

  @Override
  public void finished(CallRecord r) {
    if (r.method().equals(WRITE_METHOD)) {
      uploadsInFlight.decrementAndGet();
    }
    Timer.builder("grpc.server.calls")
        .description("gRPC calls by method and final status, with their duration")
        .tag("method", r.method())
        .tag("status", r.status().name())
        .serviceLevelObjectives(BUCKETS)
        .register(registry)
        .record(r.duration());
    Counter.builder("grpc.server.received.bytes")
        .description("Serialized bytes of request messages")
        .baseUnit("bytes")
        .tag("method", r.method())
        .register(registry)
        .increment(r.bytesIn());
    Counter.builder("grpc.server.sent.bytes")
        .description("Serialized bytes of response messages")
        .baseUnit("bytes")
        .tag("method", r.method())
        .register(registry)
        .increment(r.bytesOut());
  }
}
