package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.service.observe.MetricsText;

/** {@code GET /metrics}: every meter in the Prometheus text format. */
public final class MetricsEndpoint implements HttpRoutes {

  private static final MediaType PROMETHEUS_TEXT = MediaType.parse(MetricsText.CONTENT_TYPE);

  private final MetricsText metrics;

  public MetricsEndpoint(MetricsText metrics) {
    this.metrics = requireNonNull(metrics, "metrics");
  }

  @Override
  public void addTo(ServerBuilder server) {
    server
        .route()
        .methods(HttpMethod.GET, HttpMethod.HEAD)
        .path("/metrics")
        .build((ctx, req) -> HttpResponse.of(HttpStatus.OK, PROMETHEUS_TEXT, metrics.scrape()));
  }
}
