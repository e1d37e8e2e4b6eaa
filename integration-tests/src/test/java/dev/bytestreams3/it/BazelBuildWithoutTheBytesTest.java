package dev.bytestreams3.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Debian's Bazel 4.2.3 builds without the bytes ({@code --remote_download_minimal}) against the
 * server on the embedded S3 server; then part of the cache expires as the bucket's rule would
 * remove it (the output of an action nobody used for longer than the server's existence-cache
 * TTL), the workspace is cleaned and changed so that an action depending on that output must run
 * again. The second build succeeds: the server answers the expired output's action as a miss, so
 * Bazel runs it again instead of failing to fetch an input that no longer exists remotely.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class BazelBuildWithoutTheBytesTest {

  private static S3Server s3;
  private static ServerProcess server;
  private static BazelClient bazel;
  private static String prefix;

  @BeforeAll
  static void start() throws Exception {
    bazel = BazelClient.debian(Path.of("target", "bazel4")).orElse(null);
    Assumptions.assumeTrue(bazel != null, "Bazel 4.2.3 is not installed (reason printed above)");
    s3 = S3Server.start();
    System.out.println("Bazel 4.2.3 test: running against " + s3.description());
    prefix = "minimal-" + UUID.randomUUID() + "/";
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=" + prefix);
    // An expired blob was unused for the whole expiry age, far longer than the cache's TTL.
    args.add("--existence-cache-ttl-seconds=1");
    server = ServerProcess.start(List.of("-Xmx512m"), args);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void expiredOutput_cleanBuildWithoutTheBytes_rerunsInsteadOfFailing() throws Exception {
    Path ws = Path.of("target", "bazel4-ws-" + UUID.randomUUID()).toAbsolutePath();
    Files.createDirectories(ws);
    Files.writeString(ws.resolve("WORKSPACE"), "workspace(name = \"minimal_test\")\n");
    writeBuild(ws, "first");
    List<String> flags =
        List.of(
            "--remote_cache=grpc://" + server.target(),
            "--remote_download_minimal",
            "--spawn_strategy=local",
            "--color=no",
            "--curses=no",
            "--noshow_progress",
            "//:all");
    try {
      BazelClient.Result first = bazel.run(ws, "build", flags).checkOk("first build");
      System.out.println("Bazel 4.2.3 first build: " + lastInfo(first.output()));

      // The bucket's rule removes the intermediate output, which nothing used since.
      String gone = sha256("intermediate output\n");
      s3.delete(prefix + "cas/sha256/" + gone);
      Thread.sleep(1500);
      bazel.run(ws, "clean", List.of()).checkOk("bazel clean");
      // The action reading that output changes, so it must run, and needs the output as input.
      writeBuild(ws, "second");

      BazelClient.Result second = bazel.run(ws, "build", flags);
      System.out.println("Bazel 4.2.3 second build: " + lastInfo(second.output()));
      assertThat(second.exitCode()).as(second.output()).isZero();
      assertThat(second.output()).doesNotContain("does not exist remotely");
      // The expired output's action ran again (a miss), as did the two after it.
      assertThat(lastInfo(second.output())).contains("3 local");
    } finally {
      bazel.run(ws, "shutdown", List.of());
    }
  }

  /** An action whose output feeds a second one, whose output feeds a third. */
  private static void writeBuild(Path ws, String variant) throws Exception {
    Files.writeString(
        ws.resolve("BUILD"),
        "genrule(name = \"a\", outs = [\"a.txt\"], cmd = \"echo intermediate output > $@\")\n"
            + "genrule(name = \"b\", srcs = [\"a.txt\"], outs = [\"b.txt\"],"
            + " cmd = \"cat $< > $@; echo " + variant + " >> $@\")\n"
            + "genrule(name = \"top\", srcs = [\"b.txt\"], outs = [\"top.txt\"],"
            + " cmd = \"cat $< > $@\")\n");
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private static String lastInfo(String output) {
    String last = "(no INFO line)";
    for (String line : output.split("\n")) {
      if (line.startsWith("INFO: ")) {
        last = line;
      }
    }
    return last;
  }
}
