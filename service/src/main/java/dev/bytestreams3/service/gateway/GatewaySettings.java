package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the gateway transcodes.
 *
 * @param rulesFile a {@code google.api.Service} YAML with {@code http.rules}; empty for the
 *     shipped ByteStream rules
 * @param ignoreUnknownFields whether JSON fields and query parameters the request message lacks
 *     are ignored (otherwise they are INVALID_ARGUMENT)
 * @param emitUnpopulated whether responses carry every field, default values included
 *     ({@code "complete":false}); otherwise default values are left out
 * @param maxMessageBytes the longest JSON message accepted: a unary body or one message of a
 *     client stream
 * @param unaryTimeout the deadline of calls that are not streams, when the client sets no
 *     {@code Grpc-Timeout}; zero for none
 */
public record GatewaySettings(
    Optional<Path> rulesFile,
    boolean ignoreUnknownFields,
    boolean emitUnpopulated,
    int maxMessageBytes,
    Duration unaryTimeout) {

  public GatewaySettings {
    requireNonNull(rulesFile, "rulesFile");
    requireNonNull(unaryTimeout, "unaryTimeout");
    if (maxMessageBytes < 1024) {
      throw new IllegalArgumentException("maxMessageBytes: " + maxMessageBytes + " (expected: >= 1024)");
    }
  }

  /**
   * grpc-gateway v2's defaults: the shipped rules, unknown fields ignored, unpopulated fields
   * emitted; 16 MiB messages, 30 s unary deadline.
   */
  public static GatewaySettings defaults() {
    return new GatewaySettings(Optional.empty(), true, true, 16 << 20, Duration.ofSeconds(30));
  }

  /** These settings with the strict proto3 JSON mapping: unknown fields rejected, defaults left out. */
  public GatewaySettings strictJson() {
    return new GatewaySettings(rulesFile, false, false, maxMessageBytes, unaryTimeout);
  }
}
