package dev.bytestreams3.service.gateway;

import static dev.bytestreams3.service.gateway.GatewayTest.ndjson;
import static dev.bytestreams3.service.gateway.GatewayTest.random;
import static dev.bytestreams3.service.gateway.GatewayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.observe.CallRecorder;
import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.service.observe.LogFormat;
import dev.bytestreams3.service.observe.RpcLog;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.service.security.TokenAuthInterceptor;
import dev.bytestreams3.service.security.TokenFile;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens on the HTTP port: the gateway and raw routes forward {@code Authorization} to the
 * calls they make, so the same token check answers, as 401 and 403.
 */
class HttpTokensTest {

  private static final String TEAM_A = "http-team-a-token-7f3e9d1c";
  private static final String TEAM_B = "http-team-b-token-2b8a6c40";

  @TempDir Path dir;

  private GatewayHarness h;
  private final List<String> logLines = new CopyOnWriteArrayList<>();
  private final List<String> bodies = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TEAM_A + " read-write team-a\n" + TEAM_B + " read-write team-b\n");
    TokenFile file = TokenFile.open(tokens, logLines::add);
    EventLog events = new EventLog(LogFormat.JSON, logLines::add, Clock.systemUTC());
    h =
        new GatewayHarness(
            dir,
            GatewaySettings.defaults(),
            List.of(),
            List.of(
                new CallRecorder(List.of(new RpcLog(events)), Clock.systemUTC()),
                new TokenAuthInterceptor(
                    file::table, new ResourceNameParser(CacheServer.digestFunctions()))));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
    for (String secret : List.of(TEAM_A, TEAM_B)) {
      assertThat(logLines).noneMatch(l -> l.contains(secret));
      assertThat(bodies).noneMatch(b -> b.contains(secret));
    }
  }

  private HttpResponse<String> kept(HttpResponse<String> r) {
    bodies.add(r.body());
    return r;
  }

  private static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  @Test
  void rawRoutes_tokenOfOneInstance_cannotReadOrWriteAnother() throws Exception {
    byte[] data = random(200_000, 1);
    String upload = "/raw/team-a/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    String blob = "/raw/team-a/blobs/" + sha256(data) + "/" + data.length;

    HttpResponse<String> denied = kept(h.send("PUT", upload, BodyPublishers.ofByteArray(data), bearer(TEAM_B)));
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).contains("the token may not write 'team-a'");
    assertThat(kept(h.get(blob, bearer(TEAM_A))).statusCode()).isEqualTo(404);

    assertThat(kept(h.send("PUT", upload, BodyPublishers.ofByteArray(data), bearer(TEAM_A))).statusCode())
        .isEqualTo(200);
    assertThat(h.getBytes(blob, bearer(TEAM_A)).body()).isEqualTo(data);

    HttpResponse<String> readByB = kept(h.get(blob, bearer(TEAM_B)));
    assertThat(readByB.statusCode()).isEqualTo(403);
    assertThat(readByB.body()).contains("the token may not read 'team-a'");

    HttpResponse<String> anonymous = kept(h.get(blob));
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.body()).contains("no bearer token");
    assertThat(kept(h.get(blob, bearer(TEAM_A + "-wrong"))).statusCode()).isEqualTo(401);
  }

  @Test
  void gateway_tokenOfOneInstance_cannotReadOrWriteAnother() throws Exception {
    byte[] data = random(100_000, 2);
    String upload = "team-a/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    String blob = "team-a/blobs/" + sha256(data) + "/" + data.length;
    String body = ndjson(upload, data, 16 * 1024, 0, true);

    HttpResponse<String> denied =
        kept(h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(body), bearer(TEAM_B)));
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).contains("may not write 'team-a'");

    HttpResponse<String> written =
        kept(h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(body), bearer(TEAM_A)));
    assertThat(written.statusCode()).as(written.body()).isEqualTo(200);

    assertThat(kept(h.get("/v1/" + blob + ":read", bearer(TEAM_A))).statusCode()).isEqualTo(200);
    HttpResponse<String> readByB = kept(h.get("/v1/" + blob + ":read", bearer(TEAM_B)));
    assertThat(readByB.statusCode()).isEqualTo(403);
    assertThat(readByB.body()).contains("may not read 'team-a'");
    assertThat(kept(h.get("/v1/" + blob + ":read")).statusCode()).isEqualTo(401);
  }

  @Test
  void healthEndpoints_needNoToken() throws Exception {
    assertThat(h.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(h.get("/readyz").statusCode()).isEqualTo(200);
  }
}
