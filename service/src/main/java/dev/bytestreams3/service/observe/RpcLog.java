package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.resource.ClientText;
import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One log line per finished call: method, resource, status, bytes each way and duration. Nothing
 * is written per message, and nothing from the request metadata (where tokens travel).
 */
public final class RpcLog implements CallListener {

  private static final int MAX_MESSAGE_CHARS = 1024;

  private final EventLog log;

  public RpcLog(EventLog log) {
    this.log = requireNonNull(log, "log");
  }

  @Override
  public void finished(CallRecord r) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("method", r.method());
    f.put("resource", ClientText.excerpt(r.resource()));
    f.put("status", r.status().name());
    f.put("bytes_in", r.bytesIn());
    f.put("bytes_out", r.bytesOut());
    f.put("duration_ms", Math.round(r.duration().toNanos() / 1_000.0) / 1_000.0);
    if (r.status() != Status.Code.OK && !r.description().isEmpty()) {
      String d = r.description();
      // Messages may quote what a client sent; a log line stays one screen long whatever it was.
      f.put("message", d.length() <= MAX_MESSAGE_CHARS ? d : d.substring(0, MAX_MESSAGE_CHARS) + "...");
    }
    log.write(r.status() == Status.Code.OK ? "info" : "warn", "rpc", f);
  }
}
