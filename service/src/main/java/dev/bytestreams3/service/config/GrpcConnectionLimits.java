package dev.bytestreams3.service.config;

import java.time.Duration;

/**
 * What the gRPC port allows each connection: keepalive pings to find dead peers, how long a
 * connection may sit without calls or live at all, and how many calls it may have open at once.
 *
 * @param keepAliveTime the server pings a connection quiet this long
 * @param keepAliveTimeout a ping unanswered this long closes the connection
 * @param maxConnectionIdle a connection without calls this long is closed gracefully
 * @param maxConnectionAge a connection this old is asked to go away; zero for no limit
 * @param maxConnectionAgeGrace how long calls may run on after that
 * @param maxConcurrentStreams calls one connection may have open at once
 */
public record GrpcConnectionLimits(
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration maxConnectionIdle,
    Duration maxConnectionAge,
    Duration maxConnectionAgeGrace,
    int maxConcurrentStreams) {

  /** The defaults of {@code --help}. */
  public static GrpcConnectionLimits defaults() {
    return new GrpcConnectionLimits(
        Duration.ofSeconds(60),
        Duration.ofSeconds(20),
        Duration.ofSeconds(600),
        Duration.ofSeconds(3600),
        Duration.ofSeconds(600),
        1000);
  }
}
