package dev.bytestreams3.service.gateway;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.service.http.HttpRoutes;
import io.grpc.Channel;
import io.grpc.ServerServiceDefinition;
import java.util.List;

/**
 * The JSON gateway's routes: every path the HTTP rules bind, plus JSON 404 and 405 answers for
 * paths no other route of the server takes.
 */
public final class GatewayRoutes implements HttpRoutes {

  private final GatewayService service;

  /**
   * Binds the rules of {@code settings} to {@code services}, which {@code channel} reaches.
   *
   * @throws IllegalArgumentException when the rules cannot be read or name no served method
   */
  public GatewayRoutes(
      Channel channel, List<ServerServiceDefinition> services, GatewaySettings settings) {
    requireNonNull(channel, "channel");
    requireNonNull(settings, "settings");
    List<HttpRules.BoundRoute> routes =
        HttpRules.bind(HttpRules.fromYaml(settings.rulesFile()), services);
    this.service = new GatewayService(channel, routes, settings);
  }

  /** How many HTTP bindings the gateway serves. */
  public int routeCount() {
    return service.routeCount();
  }

  @Override
  public void addTo(ServerBuilder server) {
    server.serviceUnder("/", service);
  }
}
