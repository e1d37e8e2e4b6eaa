package dev.bytestreams3.service.observe;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;

/**
 * What one finished RPC did, as an operator sees it.
 *
 * @param start when the call arrived
 * @param method the full method name, e.g. {@code google.bytestream.ByteStream/Write}
 * @param resource the resource or instance name of the first request; empty when it had none
 * @param status the status the call ended with ({@code CANCELLED} when the client went away)
 * @param description the status description sent to the client; empty when there was none
 * @param bytesIn serialized size of every request message
 * @param bytesOut serialized size of every response message
 * @param duration from arrival to the end of the call
 */
public record CallRecord(
    Instant start,
    String method,
    String resource,
    Status.Code status,
    String description,
    long bytesIn,
    long bytesOut,
    Duration duration) {

  public CallRecord {
    requireNonNull(start, "start");
    requireNonNull(method, "method");
    requireNonNull(resource, "resource");
    requireNonNull(status, "status");
    requireNonNull(description, "description");
    requireNonNull(duration, "duration");
  }
}
