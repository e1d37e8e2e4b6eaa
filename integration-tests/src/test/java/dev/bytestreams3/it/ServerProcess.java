package dev.bytestreams3.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as users run it: its own JVM, started from the same classpath with {@code Main}, on
 * a loopback port it picks itself. Its log lines are kept for assertions.
 */
final class ServerProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("serving gRPC on [0-9.]+:(\\d+)");
  private static final Pattern HTTP_LISTENING = Pattern.compile("serving HTTP on [0-9.]+:(\\d+)");

  private final Process process;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Integer> port = new CompletableFuture<>();
  private final CompletableFuture<Integer> httpPort = new CompletableFuture<>();
  private final Thread reader;

  private ServerProcess(Process process) {
    this.process = process;
    reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  log.add(line);
                  System.out.println("server " + process.pid() + "| " + line);
                  Matcher h = HTTP_LISTENING.matcher(line);
                  if (h.find()) {
                    httpPort.complete(Integer.parseInt(h.group(1)));
                  }
                  Matcher m = LISTENING.matcher(line);
                  if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                  }
                }
              } catch (IOException e) {
                // The process ended; its log is complete.
              }
              port.completeExceptionally(
                  new IllegalStateException("server exited before listening:\n" + String.join("\n", log)));
            },
            "server-log");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code Main} with {@code jvmArgs} and {@code args}; returns once it listens. */
  static ServerProcess start(List<String> jvmArgs, List<String> args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // As the server's jar and image run: SHA-256 in the JDK's implementation.
    command.add("--add-opens=java.base/sun.security.provider=ALL-UNNAMED");
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.bytestreams3.service.Main");
    command.add("--bind-address=127.0.0.1");
    command.add("--grpc-port=0");
    command.add("--http-port=0");
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    // Settings come from flags only: a developer's BS3_* variables must not leak into tests.
    pb.environment().keySet().removeIf(k -> k.startsWith("BS3_"));
    ServerProcess s = new ServerProcess(pb.start());
    try {
      s.port.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      s.kill();
      throw e;
    }
    return s;
  }

  int port() {
    return port.join();
  }

  /** The HTTP port (gateway, raw routes, health), once the server logged it. */
  int httpPort() {
    return httpPort.orTimeout(60, TimeUnit.SECONDS).join();
  }

  String target() {
    return "127.0.0.1:" + port();
  }

  /** Every line the server printed so far. */
  List<String> log() {
    return List.copyOf(log);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Stops the server as a crash would: no shutdown hook, nothing flushed. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    reader.join(TimeUnit.SECONDS.toMillis(10));
  }

  /**
   * Stops the server with SIGTERM and returns its exit code, once everything it printed until
   * then is in {@link #log()}.
   */
  int terminate() throws InterruptedException {
    // Process.destroy() would also close our end of the server's output, losing its last lines.
    process.toHandle().destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    // The last lines may still be in the pipe: read them all before anyone looks at the log.
    reader.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
    }
  }
}
