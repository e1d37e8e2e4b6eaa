package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Bazel remote-cache builds of {@link BazelRemoteCacheTest} with the server's local disk tier
 * on ({@code --cache-dir}): the same outputs, every action a remote cache hit, and the second
 * build's blobs served from the tier.
 */
class BazelRemoteCacheWithTierTest extends BazelRemoteCacheTest {

  @Override
  List<String> extraServerArgs() {
    Path dir = Path.of("target", "tier-" + UUID.randomUUID()).toAbsolutePath();
    return List.of("--cache-dir=" + dir, "--cache-max-bytes=" + (256L << 20));
  }

  // The builds without the tier's counters run once, in the parent class, without the tier: here
  // they are not tests (no @Test), so this class makes one build with the tier on.
  @Override
  void secondBuildAfterClean_isAllRemoteCacheHits_withIdenticalOutputs() {}

  @Override
  void multiSegmentInstanceName_isItsOwnCache_andServesFullHits() {}

  @Test
  void secondBuild_readsItsBlobsFromTheTier() throws Exception {
    double hitsBefore = counter("bytestream_tier_hits_total");
    buildCleanBuild("tiered");
    double hits = counter("bytestream_tier_hits_total") - hitsBefore;
    System.out.println("Bazel with tier: " + hits + " reads served from the tier");
    // 41 outputs and their action results' blobs (stdout is empty): every output is read back.
    assertThat(hits).isGreaterThanOrEqualTo(41);
    // Every copy the tier made of a real build's blobs matched its digest.
    assertThat(counter("bytestream_tier_rejected_total")).isZero();
    assertThat(counter("bytestream_tier_dropped_total")).isZero();
    assertThat(String.join("\n", server.log())).contains("local-tier");
  }

  private static double counter(String name) throws Exception {
    // HTTP/1.1, as Prometheus scrapes.
    HttpResponse<String> r =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .build()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(r.body());
    assertThat(m.find()).as("%s in /metrics", name).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
