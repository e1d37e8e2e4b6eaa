package dev.bytestreams3.service.gateway;

import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.CallOptions;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an HTTP request's headers say about the gRPC call: {@code Grpc-Metadata-X} headers become
 * metadata {@code X}, {@code Authorization} is forwarded, and {@code Grpc-Timeout} sets the
 * deadline.
 */
final class CallSetup {

  private static final String METADATA_PREFIX = "grpc-metadata-";
  private static final Pattern TIMEOUT = Pattern.compile("(\\d{1,8})([HMSmun])");
  private static final Map<String, TimeUnit> UNITS =
      Map.of(
          "H", TimeUnit.HOURS, "M", TimeUnit.MINUTES, "S", TimeUnit.SECONDS,
          "m", TimeUnit.MILLISECONDS, "u", TimeUnit.MICROSECONDS, "n", TimeUnit.NANOSECONDS);

  private CallSetup() {}

  /** The metadata the call carries. */
  static Metadata metadata(RequestHeaders headers) {
    Metadata m = new Metadata();
    headers.forEach(
        (name, value) -> {
          String n = name.toString().toLowerCase(Locale.ROOT);
          String key = null;
          if (n.startsWith(METADATA_PREFIX) && n.length() > METADATA_PREFIX.length()) {
            key = n.substring(METADATA_PREFIX.length());
          } else if (n.equals("authorization")) {
            key = n;
          }
          if (key != null && !key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
            try {
              m.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
            } catch (IllegalArgumentException e) {
              throw GatewayError.invalid("header " + name + ": " + e.getMessage());
            }
          }
        });
    return m;
  }

  /**
   * The call's options: the deadline of {@code Grpc-Timeout} when present, else
   * {@code defaultTimeout} (zero means none).
   */
  static CallOptions options(RequestHeaders headers, Duration defaultTimeout) {
    String t = headers.get("grpc-timeout");
    if (t != null) {
      Matcher m = TIMEOUT.matcher(t.trim());
      if (!m.matches()) {
        throw new GatewayError(
            Status.INVALID_ARGUMENT.withDescription(
                "Grpc-Timeout: '" + t + "' (expected: up to 8 digits and a unit H, M, S, m, u or n)"));
      }
      return CallOptions.DEFAULT.withDeadlineAfter(
          Long.parseLong(m.group(1)), UNITS.get(m.group(2)));
    }
    if (defaultTimeout.isZero()) {
      return CallOptions.DEFAULT;
    }
    return CallOptions.DEFAULT.withDeadlineAfter(defaultTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * What sets the deadline of {@link #options} with the same arguments, in words the client
   * knows; empty when the call has none.
   */
  static Optional<String> deadlineSource(RequestHeaders headers, Duration defaultTimeout) {
    String t = headers.get("grpc-timeout");
    if (t != null) {
      return Optional.of("Grpc-Timeout: " + t.trim());
    }
    if (defaultTimeout.isZero()) {
      return Optional.empty();
    }
    return Optional.of(
        "the gateway's limit of " + defaultTimeout.toMillis() + " ms for calls without Grpc-Timeout");
  }
}
