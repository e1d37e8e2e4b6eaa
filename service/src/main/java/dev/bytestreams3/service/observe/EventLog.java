package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The server's own log: one line per event in the configured {@link LogFormat}, each starting
 * with its time, level and event name. Lines go to one sink (standard output in the server).
 */
public final class EventLog {

  private final LogFormat format;
  private final Consumer<String> sink;
  private final Clock clock;

  public EventLog(LogFormat format, Consumer<String> sink, Clock clock) {
    this.format = requireNonNull(format, "format");
    this.sink = requireNonNull(sink, "sink");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Writes an {@code info} line. */
  public void info(String event, Map<String, ?> fields) {
    write("info", event, fields);
  }

  /** Writes a {@code warn} line. */
  public void warn(String event, Map<String, ?> fields) {
    write("warn", event, fields);
  }

  /** Writes one line; {@code fields} keep their iteration order after time, level and event. */
  public void write(String level, String event, Map<String, ?> fields) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("time", clock.instant().toString());
    line.put("level", level);
    line.put("event", event);
    line.putAll(fields);
    String text = format.line(line);
    synchronized (this) {
      sink.accept(text);
    }
  }
}
