package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The readiness answers the server gives ({@code /readyz}): the last one as a gauge (1 ready, 0
 * not) and a count of the times it changed, which shows flapping that scrapes in between miss.
 */
public final class ReadinessMetrics implements Consumer<Boolean> {

  /** -1 until the first answer, then 1 or 0. */
  private final AtomicInteger last = new AtomicInteger(-1);
  private final Counter changes;

  public ReadinessMetrics(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    Gauge.builder("bytestream.ready", last, l -> Math.max(0, l.get()))
        .description("The last readiness answer: 1 ready, 0 not ready (or not asked yet)")
        .register(registry);
    changes =
        Counter.builder("bytestream.readiness.changes")
            .description("Times the readiness answer changed between ready and not ready")
            .register(registry);
  }

  /** Takes one readiness answer. */
  @Override
  public void accept(Boolean ready) {
    int now = ready ? 1 : 0;
    int before = last.getAndSet(now);
    if (before >= 0 && before != now) {
      changes.increment();
    }
  }
}
