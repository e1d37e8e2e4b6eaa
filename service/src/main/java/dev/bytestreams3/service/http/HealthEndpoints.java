package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.storage.BlobStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * {@code GET /healthz}: 200 while the process runs (liveness). {@code GET /readyz}: 200 when the
 * store answered its latest (cached) lookup, 503 when it did not and once shutdown began
 * (readiness), so a load balancer stops sending new work before the server stops. Each answer is
 * also handed to a listener (the readiness metrics).
 */
public final class HealthEndpoints implements HttpRoutes {

  private final StoreReadiness store;
  private final Consumer<Boolean> answers;
  private final AtomicBoolean stopping = new AtomicBoolean();

  /** Probes {@code store} on every readiness check, waiting at most {@code probeTimeout}. */
  public HealthEndpoints(BlobStore store, Duration probeTimeout) {
    this(new StoreReadiness(store, probeTimeout, Duration.ZERO), ready -> {});
  }

  /** Answers from {@code store}; {@code answers} is told every readiness answer (true: ready). */
  public HealthEndpoints(StoreReadiness store, Consumer<Boolean> answers) {
    this.store = requireNonNull(store, "store");
    this.answers = requireNonNull(answers, "answers");
  }

  /** Starts a store lookup now, without waiting for it, so the first probe finds it under way. */
  public void probeNow() {
    store.ready();
  }

  /** From now on {@code /readyz} answers 503. */
  public void markStopping() {
    stopping.set(true);
  }

  @Override
  public void addTo(ServerBuilder server) {
    server.service("/healthz", (ctx, req) -> HttpResponse.of(HttpStatus.OK, MediaType.PLAIN_TEXT_UTF_8, "ok\n"));
    server.service("/readyz", (ctx, req) -> readiness());
  }

  private HttpResponse readiness() {
    if (stopping.get()) {
      answers.accept(false);
      return HttpResponse.of(
          HttpStatus.SERVICE_UNAVAILABLE, MediaType.PLAIN_TEXT_UTF_8, "shutting down\n");
    }
    // The store's own error text (S3's message, an endpoint) stays in the log, not in this body.
    return HttpResponse.of(
        store
            .ready()
            .thenApply(
                ready -> {
                  answers.accept(ready);
                  return ready
                      ? HttpResponse.of(HttpStatus.OK, MediaType.PLAIN_TEXT_UTF_8, "ready\n")
                      : HttpResponse.of(
                          HttpStatus.SERVICE_UNAVAILABLE,
                          MediaType.PLAIN_TEXT_UTF_8,
                          "store not reachable\n");
                }));
  }
}
