package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The body of a {@code /metrics} answer: every meter in the Prometheus text exposition format.
 * Independent of any HTTP server, so whichever serves it answers the same.
 */
public final class MetricsText {

  /** The content type of {@link #scrape()}. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;

  public MetricsText(PrometheusMeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  /** The current value of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
