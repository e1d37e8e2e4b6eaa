package dev.bytestreams3.service.bytestream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.observe.OpeningMessageMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What an operator scrapes about Writes waiting for room for their first message. */
class OpeningMessageMetricsTest {

  @Test
  void firstMessageWaitersAndWaitTime_areScraped() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Room for one first message of 100 bytes: a second Write waits for it.
    OpeningMessages opening = new OpeningMessages(100, 100);
    OpeningMessageMetrics.register(opening, registry);

    OpeningMessages.Share first = opening.reserve("one connection").join();
    CompletableFuture<OpeningMessages.Share> second = opening.reserve("another connection");
    assertThat(registry.scrape())
        .contains("bytestream_opening_used_bytes 100.0")
        .contains("bytestream_opening_waiting 1.0")
        .contains("bytestream_opening_waits_total 1.0")
        .contains("bytestream_opening_wait_seconds_total 0.0");

    Thread.sleep(50);
    first.close();
    second.join().close();
    String after = registry.scrape();
    assertThat(after)
        .contains("bytestream_opening_used_bytes 0.0")
        .contains("bytestream_opening_waiting 0.0")
        .contains("bytestream_opening_waits_total 1.0");
    double waited =
        Double.parseDouble(
            after.lines()
                .filter(l -> l.startsWith("bytestream_opening_wait_seconds_total "))
                .findFirst()
                .orElseThrow()
                .split(" ")[1]);
    assertThat(waited).isGreaterThanOrEqualTo(0.05);
  }
}
