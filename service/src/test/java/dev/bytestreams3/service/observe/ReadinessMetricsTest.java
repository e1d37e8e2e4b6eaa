package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class ReadinessMetricsTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MetricsText metrics = new MetricsText(registry);
  private final ReadinessMetrics readiness = new ReadinessMetrics(registry);

  @Test
  void lastAnswerIsAGauge_andEveryChangeIsCounted() {
    assertThat(metrics.scrape())
        .contains("bytestream_ready 0")
        .contains("bytestream_readiness_changes_total 0");
    readiness.accept(true);
    readiness.accept(true);
    // The first answer is no change.
    assertThat(metrics.scrape())
        .contains("bytestream_ready 1")
        .contains("bytestream_readiness_changes_total 0");
    readiness.accept(false);
    readiness.accept(true);
    readiness.accept(false);
    assertThat(metrics.scrape())
        .contains("bytestream_ready 0")
        .contains("bytestream_readiness_changes_total 3");
  }
}
