package dev.bytestreams3.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts {@link ServerChild} in a JVM with a heap of its own and talks to it. */
final class ChildServer implements AutoCloseable {

  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  final int port;
  final long budgetBytes;

  private ChildServer(Process process, BufferedReader out, Writer in, int port, long budgetBytes) {
    this.process = process;
    this.out = out;
    this.in = in;
    this.port = port;
    this.budgetBytes = budgetBytes;
  }

  /**
   * Starts the server with a heap of {@code heap}, all committed at start as the server's image
   * runs, over {@code bucket} at {@code endpoint}.
   */
  static ChildServer start(String heap, URI endpoint, String bucket) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xms" + heap);
    cmd.add("-Xmx" + heap);
    cmd.add("-XX:+ExitOnOutOfMemoryError");
    // As the server's jar and image run: SHA-256 in the JDK's implementation.
    cmd.add("--add-opens=java.base/sun.security.provider=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ServerChild.class.getName());
    cmd.add(endpoint.toString());
    cmd.add(bucket);
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
    String[] ready = expect(out, "READY");
    return new ChildServer(p, out, in, Integer.parseInt(ready[1]), Long.parseLong(ready[2]));
  }

  private static String[] expect(BufferedReader out, String word) throws IOException {
    String other = "";
    for (String line; (line = out.readLine()) != null; ) {
      if (line.startsWith(word + " ")) {
        return line.split(" ");
      }
      // The JVM reports an OutOfMemoryError it exits on here, on standard output.
      other = line;
    }
    throw new IOException(
        "the server JVM ended before it answered " + word + (other.isEmpty() ? "" : ": " + other));
  }

  /** Heap in use after a full collection, and the budget lent out now. */
  long[] live() throws IOException {
    String[] r = ask("MARK", "LIVE");
    return new long[] {Long.parseLong(r[1]), Long.parseLong(r[2])};
  }

  /** The most heap a collection left in use, and the budget's peak. */
  long[] peak() throws IOException {
    String[] r = ask("REPORT", "PEAK");
    return new long[] {Long.parseLong(r[1]), Long.parseLong(r[2])};
  }

  boolean alive() {
    return process.isAlive();
  }

  private String[] ask(String command, String answer) throws IOException {
    try {
      in.write(command + "\n");
      in.flush();
    } catch (IOException e) {
      // Gone already: what it last said explains why.
    }
    return expect(out, answer);
  }

  @Override
  public void close() throws Exception {
    try {
      in.write("STOP\n");
      in.flush();
    } catch (IOException e) {
      // Already gone.
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
