package dev.bytestreams3.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Bazel 2.1.0, installed from the npm registry into the build folder on first use, run in
 * batch mode (no server left behind) with its output base under the build folder.
 */
final class BazelClient {

  static final String PACKAGE = "@bazel/bazel-linux_x64@2.1.0";
  private static final long TIMEOUT_SECONDS = 300;

  private final Path binary;
  private final Path outputRoot;
  private final List<String> startupOptions;

  private BazelClient(Path binary, Path outputRoot, List<String> startupOptions) {
    this.binary = binary;
    this.outputRoot = outputRoot;
    this.startupOptions = startupOptions;
  }

  /**
   * Installs Bazel under {@code dir} unless it is already there; empty with the reason printed
   * when this machine cannot run it (no npm, not Linux on x86-64).
   */
  static Optional<BazelClient> install(Path dir) throws Exception {
    String os = System.getProperty("os.name").toLowerCase();
    String arch = System.getProperty("os.arch");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      System.out.println("Bazel test skipped: " + PACKAGE + " runs on Linux x86-64, this is " + os + "/" + arch);
      return Optional.empty();
    }
    Path binary =
        dir.resolve("node_modules/@bazel/bazel-linux_x64/bazel-2.1.0-linux-x86_64").toAbsolutePath();
    if (!Files.isExecutable(binary)) {
      Optional<String> npm = onPath("npm");
      if (npm.isEmpty()) {
        System.out.println("Bazel test skipped: npm is not on the PATH, so " + PACKAGE + " cannot be installed");
        return Optional.empty();
      }
      Files.createDirectories(dir);
      Result r =
          run(
              List.of(npm.get(), "install", "--prefix", dir.toAbsolutePath().toString(),
                  "--no-audit", "--no-fund", PACKAGE),
              dir, TIMEOUT_SECONDS);
      if (r.exitCode() != 0 || !Files.isExecutable(binary)) {
        throw new IllegalStateException("npm install " + PACKAGE + " failed:\n" + r.output());
      }
    }
    return Optional.of(new BazelClient(binary, dir.resolve("output-root").toAbsolutePath(), List.of()));
  }

  /** Debian's Bazel 4.2.3 (package {@code bazel-bootstrap}), where it is installed. */
  static final Path DEBIAN_BINARY = Path.of("/usr/bin/bazel");

  private static final String DEBIAN_RC = "/etc/bazel/bazelrc";

  /**
   * Debian's Bazel 4.2.3, with its output base under {@code dir}; empty with the reason printed
   * when it is not installed ({@code apt-get install bazel-bootstrap}; {@code .ci/run} does).
   */
  static Optional<BazelClient> debian(Path dir) {
    if (!Files.isExecutable(DEBIAN_BINARY)) {
      System.out.println(
          "Bazel 4.2.3 test skipped: " + DEBIAN_BINARY + " is missing (Debian package"
              + " bazel-bootstrap: apt-get install bazel-bootstrap)");
      return Optional.empty();
    }
    // Debian's build finds its install base and JDK through the rc file the package ships.
    return Optional.of(
        new BazelClient(
            DEBIAN_BINARY, dir.resolve("output-root").toAbsolutePath(),
            List.of("--bazelrc=" + DEBIAN_RC)));
  }

  /** Runs {@code bazel <command> <args>} in {@code workspace}; startup options keep it contained. */
  Result run(Path workspace, String command, List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.add("--batch");
    cmd.add("--nosystem_rc");
    cmd.add("--nohome_rc");
    cmd.add("--output_user_root=" + outputRoot);
    cmd.addAll(startupOptions);
    cmd.add(command);
    cmd.addAll(args);
    return run(cmd, workspace, TIMEOUT_SECONDS);
  }

  private static Result run(List<String> command, Path dir, long timeoutSeconds) throws Exception {
    Path log = Files.createTempFile("bazel-", ".log");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("BS3_"));
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        throw new IllegalStateException(
            String.join(" ", command) + " took longer than " + timeoutSeconds + " s:\n"
                + Files.readString(log, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static Optional<String> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  /** What a command printed and how it ended. */
  record Result(int exitCode, String output) {
    Result checkOk(String what) throws IOException {
      if (exitCode != 0) {
        throw new IllegalStateException(what + " failed with exit code " + exitCode + ":\n" + output);
      }
      return this;
    }
  }
}
