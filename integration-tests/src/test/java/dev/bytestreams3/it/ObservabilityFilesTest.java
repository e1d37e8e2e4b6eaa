package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Grafana dashboard and the Prometheus alerting rules in {@code observability/} read only
 * metrics a real server exports: a server process on a real S3 protocol server serves some
 * traffic, its {@code /metrics} is scraped, and every metric name in every panel and rule must be
 * in that scrape.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ObservabilityFilesTest {

  private static final Path FOLDER = Path.of("..", "observability");
  private static final Path DASHBOARD = FOLDER.resolve("grafana/bytestream-s3.json");
  private static final Path RULES = FOLDER.resolve("prometheus/alerts.yml");
  private static final Path RULE_TESTS = FOLDER.resolve("prometheus/alerts.test.yml");

  private static S3Server s3;
  private static Set<String> exported;

  @BeforeAll
  static void scrapeAServerThatServedTraffic() throws Exception {
    s3 = S3Server.start();
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=it-" + UUID.randomUUID() + "/");
    try (ServerProcess server = ServerProcess.start(List.of(), args);
        Streams client = new Streams(server.target())) {
      byte[] data = randomBytes(100_000, 51);
      client.writeAll(uploadName("ci", data), data);
      assertThat(client.read(blobName("ci", data), 0, 0)).isEqualTo(data);
      ManagedChannel channel =
          NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        Digest absent =
            Digest.newBuilder().setHash(Streams.sha256(new byte[3], 0, 3)).setSizeBytes(3).build();
        assertThat(
                ContentAddressableStorageGrpc.newBlockingStub(channel)
                    .findMissingBlobs(
                        FindMissingBlobsRequest.newBuilder()
                            .setInstanceName("ci")
                            .addBlobDigests(absent)
                            .build())
                    .getMissingBlobDigestsList())
            .containsExactly(absent);
        assertThatThrownBy(
                () ->
                    ActionCacheGrpc.newBlockingStub(channel)
                        .getActionResult(
                            GetActionResultRequest.newBuilder()
                                .setInstanceName("ci")
                                .setActionDigest(absent)
                                .build()))
            .hasMessageContaining("NOT_FOUND");
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
      String scrape = get(server, "/metrics").body();
      assertThat(scrape).contains("bytestream_ready 1");
      exported = sampleNames(scrape);
    }
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  private static HttpResponse<String> get(ServerProcess server, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The name of every sample in a Prometheus text scrape. */
  private static Set<String> sampleNames(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int end = line.indexOf('{');
      names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
    }
    return names;
  }

  /** Every query of the dashboard, keyed by where it is ("panel title / A"). */
  private static Map<String, String> dashboardQueries(JsonObject dashboard) {
    Map<String, String> queries = new LinkedHashMap<>();
    for (JsonElement v : dashboard.getAsJsonObject("templating").getAsJsonArray("list")) {
      JsonObject variable = v.getAsJsonObject();
      JsonElement q = variable.get("query");
      if (variable.get("type").getAsString().equals("query")) {
        String text = q.isJsonObject() ? q.getAsJsonObject().get("query").getAsString() : q.getAsString();
        queries.put("variable " + variable.get("name").getAsString(), text);
      }
    }
    for (JsonElement p : dashboard.getAsJsonArray("panels")) {
      JsonObject panel = p.getAsJsonObject();
      JsonArray targets = panel.getAsJsonArray("targets");
      if (targets == null) {
        continue;
      }
      for (JsonElement t : targets) {
        JsonObject target = t.getAsJsonObject();
        queries.put(
            panel.get("title").getAsString() + " / " + target.get("refId").getAsString(),
            target.get("expr").getAsString());
      }
    }
    return queries;
  }

  /** Each query whose metrics are not all exported, with the ones missing. */
  private static Map<String, Set<String>> missing(Map<String, String> queries) {
    Map<String, Set<String>> missing = new LinkedHashMap<>();
    queries.forEach(
        (where, query) -> {
          Set<String> names = new TreeSet<>(PromQlMetricNames.in(query));
          names.removeAll(exported);
          if (!names.isEmpty()) {
            missing.put(where, names);
          }
        });
    return missing;
  }

  private static Set<String> allNames(Map<String, String> queries) {
    Set<String> names = new TreeSet<>();
    queries.values().forEach(q -> names.addAll(PromQlMetricNames.in(q)));
    return names;
  }

  @Test
  void dashboard_parses_andEveryMetricOfEveryPanelIsExported() throws Exception {
    JsonObject dashboard =
        JsonParser.parseString(Files.readString(DASHBOARD, StandardCharsets.UTF_8)).getAsJsonObject();
    assertThat(dashboard.get("uid").getAsString()).isEqualTo("bytestream-s3");
    Map<String, String> queries = dashboardQueries(dashboard);
    assertThat(missing(queries)).as("queries naming metrics the server does not export").isEmpty();
    // What an operator looks for first is all there.
    assertThat(allNames(queries))
        .contains(
            "grpc_server_calls_seconds_count",
            "grpc_server_calls_seconds_bucket",
            "bytestream_cache_lookups_total",
            "grpc_server_received_bytes_total",
            "grpc_server_sent_bytes_total",
            "s3_requests_seconds_count",
            "bytestream_memory_budget_used_bytes",
            "bytestream_memory_budget_waiting",
            "bytestream_uploads_in_flight");
  }

  @SuppressWarnings("unchecked")
  @Test
  void alertRules_parse_andEveryMetricOfEveryRuleIsExported() throws Exception {
    Map<String, Object> file =
        new Yaml(new SafeConstructor(new LoaderOptions()))
            .load(Files.readString(RULES, StandardCharsets.UTF_8));
    Map<String, String> queries = new LinkedHashMap<>();
    for (Object g : (List<Object>) file.get("groups")) {
      for (Object r : (List<Object>) ((Map<String, Object>) g).get("rules")) {
        Map<String, Object> rule = (Map<String, Object>) r;
        String alert = (String) rule.get("alert");
        assertThat(alert).as("every rule is an alert with a name").isNotBlank();
        assertThat((Map<String, Object>) rule.get("labels")).as(alert).containsKey("severity");
        assertThat((Map<String, Object>) rule.get("annotations")).as(alert).containsKey("summary");
        queries.put(alert, (String) rule.get("expr"));
      }
    }
    assertThat(queries)
        .containsKeys(
            "BytestreamS3ErrorRateHigh",
            "BytestreamMemoryBudgetExhausted",
            "BytestreamReadinessFlapping",
            "BytestreamActionCacheHitRatioCollapsed",
            "BytestreamBlobHitRatioCollapsed");
    assertThat(missing(queries)).as("rules naming metrics the server does not export").isEmpty();
  }

  @Test
  void metricNames_areTheIdentifiersThatAreNeitherFunctionsNorLabels() {
    assertThat(
            PromQlMetricNames.in(
                "histogram_quantile(0.99, sum by (method, le) (rate(grpc_server_calls_seconds_bucket"
                    + "{instance=~\"$instance\",status!=\"OK\"}[$__rate_interval]))) / on(job) nope_total"
                    + " offset 1d > bool 1e3"))
        .containsExactly("grpc_server_calls_seconds_bucket", "nope_total");
    assertThat(PromQlMetricNames.in("label_values(bytestream_ready, instance)"))
        .containsExactly("bytestream_ready");
    // The check above reports a metric the server lacks.
    assertThat(missing(Map.of("panel / A", "sum(rate(bytestream_no_such_metric_total[5m]))")))
        .containsEntry("panel / A", Set.of("bytestream_no_such_metric_total"));
  }

  private static Optional<Path> promtool() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static String run(Path promtool, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(promtool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + " said:\n" + out).isZero();
    return out;
  }

  @Test
  void alertRules_passPromtool_andFireOnTheirTestSeries() throws Exception {
    Optional<Path> promtool = promtool();
    if (promtool.isEmpty()) {
      System.out.println(
          "ObservabilityFilesTest: promtool checks skipped: no promtool on PATH"
              + " (Debian: apt-get install prometheus)");
    }
    Assumptions.assumeTrue(promtool.isPresent(), "no promtool on PATH (Debian: apt-get install prometheus)");
    assertThat(run(promtool.get(), "check", "rules", RULES.toString())).contains("SUCCESS");
    assertThat(run(promtool.get(), "test", "rules", RULE_TESTS.toString())).contains("SUCCESS");
  }
}
