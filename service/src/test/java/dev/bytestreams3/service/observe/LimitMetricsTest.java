package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.bytestream.IdleLimits;
import dev.bytestreams3.storage.MemoryBudget;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What an operator scrapes about refusals, waits for memory and idle streams ended. */
class LimitMetricsTest {

  @Test
  void refusalsWaitersAndWaitTime_areScraped() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MemoryBudget budget = new MemoryBudget(100, 50);
    MemoryBudgetMetrics.register(budget, registry);
    IdleStreamMetrics.register(new IdleLimits(Duration.ofSeconds(1), Duration.ofSeconds(1)), registry);

    assertThat(budget.reserve(51)).isCompletedExceptionally();
    MemoryBudget.Reservation a = budget.reserve(50).join();
    MemoryBudget.Reservation b = budget.reserve(50).join();
    CompletableFuture<MemoryBudget.Reservation> waiting = budget.reserve(10);
    String during = registry.scrape();
    assertThat(during)
        .contains("bytestream_memory_budget_refused_total 1.0")
        .contains("bytestream_memory_budget_waiting 1.0")
        .contains("bytestream_memory_budget_waits_total 1.0")
        .contains("bytestream_memory_budget_max_reservation_bytes 50.0")
        .contains("bytestream_idle_streams_ended_total 0.0");

    Thread.sleep(50);
    a.close();
    waiting.join().close();
    b.close();
    String after = registry.scrape();
    assertThat(after).contains("bytestream_memory_budget_waiting 0.0");
    double waited =
        Double.parseDouble(
            after.lines()
                .filter(l -> l.startsWith("bytestream_memory_budget_wait_seconds_total "))
                .findFirst()
                .orElseThrow()
                .split(" ")[1]);
    assertThat(waited).isGreaterThanOrEqualTo(0.05);
  }
}
