package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * {@code GET /healthz}: 200 while the process runs (liveness). {@code GET /readyz}: 200 when the
 * store answers a lookup within the probe timeout, 503 when it does not and once shutdown began
 * (readiness), so a load balancer stops sending new work before the server stops. Each answer is
 * also handed to a listener (the readiness metrics).
 */
public final class HealthEndpoints implements HttpRoutes {

  private static final BlobKey PROBE = BlobKey.of("readiness-probe");

  private final BlobStore store;
  private final Duration probeTimeout;
  private final Consumer<Boolean> answers;
  private final AtomicBoolean stopping = new AtomicBoolean();

  public HealthEndpoints(BlobStore store, Duration probeTimeout) {
    this(store, probeTimeout, ready -> {});
  }

  /** Like the two-argument form; {@code answers} is told every readiness answer (true: ready). */
  public HealthEndpoints(BlobStore store, Duration probeTimeout, Consumer<Boolean> answers) {
    this.store = requireNonNull(store, "store");
    this.probeTimeout = requireNonNull(probeTimeout, "probeTimeout");
    this.answers = requireNonNull(answers, "answers");
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
    return HttpResponse.of(
        store
            .size(PROBE)
            .orTimeout(probeTimeout.toMillis(), TimeUnit.MILLISECONDS)
            .handle(
                (size, err) -> {
                  answers.accept(err == null);
                  return err == null
                      ? HttpResponse.of(HttpStatus.OK, MediaType.PLAIN_TEXT_UTF_8, "ready\n")
                      : HttpResponse.of(
                          HttpStatus.SERVICE_UNAVAILABLE,
                          MediaType.PLAIN_TEXT_UTF_8,
                          "store not answering: " + rootMessage(err) + "\n");
                }));
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c instanceof java.util.concurrent.TimeoutException
        ? "no answer within " + "the probe timeout"
        : String.valueOf(c.getMessage());
  }
}
