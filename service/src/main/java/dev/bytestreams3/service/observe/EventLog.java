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

  /** Writes an {@code info} line with {@code keysAndValues} in their order: key, value, ... */
  public void info(String event, Object... keysAndValues) {
    write("info", event, fields(keysAndValues));
  }

  /** Writes a {@code warn} line with {@code keysAndValues} in their order: key, value, ... */
  public void warn(String event, Object... keysAndValues) {
    write("warn", event, fields(keysAndValues));
  }

  private static Map<String, Object> fields(Object[] keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "keysAndValues: " + keysAndValues.length + " items (expected: key, value pairs)");
    }
    Map<String, Object> f = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      f.put(String.valueOf(keysAndValues[i]), keysAndValues[i + 1]);
    }
    return f;
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
