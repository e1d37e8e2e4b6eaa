package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A real Bazel 2.1.0 uses the server, on the embedded S3 server, as its remote cache: it builds a
 * workspace of genrules (many small outputs and one above 20 MiB, which takes the multipart path),
 * cleans, builds again and must take every action from the cache with identical outputs.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BazelRemoteCacheTest {

  private static final int SMALL_OUTPUTS = 40;
  private static final Pattern PROCESSES = Pattern.compile("INFO: (\\d+) processes?: ([^\\n]*)");
  private static final Pattern REMOTE_HITS = Pattern.compile("(\\d+) remote cache hit");

  private static S3Server s3;
  static ServerProcess server;
  private static BazelClient bazel;

  /** Settings the server gets besides the S3 ones; a variant of these builds adds its own. */
  List<String> extraServerArgs() {
    return List.of();
  }

  @BeforeAll
  void start() throws Exception {
    bazel = BazelClient.install(Path.of("target", "bazel")).orElse(null);
    Assumptions.assumeTrue(bazel != null, "Bazel cannot run here (reason printed above)");
    s3 = S3Server.start();
    System.out.println("Bazel test: running against " + s3.description());
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=bazel-" + UUID.randomUUID() + "/");
    args.addAll(extraServerArgs());
    server = ServerProcess.start(List.of("-Xmx512m"), args);
  }

  @AfterAll
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void secondBuildAfterClean_isAllRemoteCacheHits_withIdenticalOutputs() throws Exception {
    buildCleanBuild("");
  }

  @Test
  void multiSegmentInstanceName_isItsOwnCache_andServesFullHits() throws Exception {
    buildCleanBuild("ci/linux/x86_64");
  }

  void buildCleanBuild(String instance) throws Exception {
    Path ws = workspace();
    List<String> flags = new ArrayList<>();
    flags.add("--remote_cache=grpc://" + server.target());
    if (!instance.isEmpty()) {
      flags.add("--remote_instance_name=" + instance);
    }
    flags.add("--spawn_strategy=local");
    flags.add("--color=no");
    flags.add("--curses=no");
    flags.add("--noshow_progress");
    flags.add("//:all");
    try {
      BazelClient.Result first = bazel.run(ws, "build", flags).checkOk("first build");
      System.out.println("Bazel first build [" + instance + "]: " + processesLine(first.output()));
      assertThat(remoteHits(first.output()))
          .as("a fresh workspace (or a fresh instance) has nothing cached: %s", first.output())
          .isZero();
      Map<String, String> before = outputs(ws);
      assertThat(before).hasSize(SMALL_OUTPUTS + 1);
      assertThat(Files.size(ws.resolve("bazel-bin/big.txt"))).isGreaterThanOrEqualTo(20L << 20);

      bazel.run(ws, "clean", List.of()).checkOk("bazel clean");
      assertThat(Files.exists(ws.resolve("bazel-bin/big.txt"))).isFalse();

      BazelClient.Result second = bazel.run(ws, "build", flags).checkOk("second build");
      String line = processesLine(second.output());
      System.out.println("Bazel second build [" + instance + "]: " + line);
      Matcher m = PROCESSES.matcher(line);
      assertThat(m.find()).isTrue();
      int processes = Integer.parseInt(m.group(1));
      assertThat(processes).isEqualTo(SMALL_OUTPUTS + 1);
      assertThat(line).isEqualTo("INFO: " + processes + " processes: " + processes + " remote cache hit.");
      assertThat(outputs(ws)).isEqualTo(before);
    } finally {
      bazel.run(ws, "shutdown", List.of());
    }
  }

  /** A workspace of genrules: many small outputs and one of about 22 MiB. */
  private static Path workspace() throws Exception {
    Path ws = Path.of("target", "bazel-ws-" + UUID.randomUUID()).toAbsolutePath();
    Files.createDirectories(ws);
    Files.writeString(ws.resolve("WORKSPACE"), "workspace(name = \"cache_test\")\n");
    StringBuilder build = new StringBuilder();
    for (int i = 0; i < SMALL_OUTPUTS; i++) {
      build.append(
          String.format(
              "genrule(name = \"small%d\", outs = [\"small%d.txt\"], cmd = \"echo small output %d > $@\")%n",
              i, i, i));
    }
    // seq 1 3000000 writes 22,888,896 bytes: above 20 MiB, so it crosses S3 part boundaries.
    build.append("genrule(name = \"big\", outs = [\"big.txt\"], cmd = \"seq 1 3000000 > $@\")\n");
    Files.writeString(ws.resolve("BUILD"), build.toString());
    return ws;
  }

  /** Every output file of the workspace and the SHA-256 of its bytes. */
  private static Map<String, String> outputs(Path ws) throws Exception {
    Map<String, String> out = new TreeMap<>();
    Path bin = ws.resolve("bazel-bin").toRealPath();
    try (Stream<Path> files = Files.list(bin)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".txt")).toList()) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        out.put(f.getFileName().toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(f))));
      }
    }
    return out;
  }

  private static String processesLine(String output) {
    Matcher m = PROCESSES.matcher(output);
    String last = "(no processes line in Bazel's output)\n" + output;
    while (m.find()) {
      last = m.group(0).trim();
    }
    return last;
  }

  private static int remoteHits(String output) {
    Matcher m = REMOTE_HITS.matcher(processesLine(output));
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }
}
