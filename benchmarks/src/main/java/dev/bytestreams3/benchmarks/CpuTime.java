package dev.bytestreams3.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of this JVM's threads, summed by what they work for, as their names tell: the S3
 * server run in process (S3Mock's Tomcat threads), our server's gRPC threads, the benchmark's own
 * gRPC client (its event loop, {@link #CLIENT_THREADS}), the AWS SDK (our store's client and the
 * baseline's), and the rest; then what the process used beyond the threads Java lists. Where
 * {@code /proc} lists the process's native threads (Linux), that part is split into the JIT
 * compilers, the garbage collector and the rest of the VM (including threads that ended
 * meanwhile); elsewhere it is one figure. On a machine of two cores, all of it competes for the
 * same two cores.
 */
final class CpuTime {

  /** The name prefix of the benchmark client's event-loop threads. */
  static final String CLIENT_THREADS = "bench-client";

  /** Linux reports thread CPU time in ticks of 1/100 s ({@code USER_HZ}). */
  private static final double SECONDS_PER_TICK = 0.01;

  private static final Path TASKS = Path.of("/proc/self/task");

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static final OperatingSystemMXBean PROCESS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private final Map<Long, Long> startNanos = new LinkedHashMap<>();
  private final Map<Long, String> groups = new LinkedHashMap<>();
  private long processStartNanos;
  private Map<String, Double> nativeStart;

  private CpuTime() {}

  /** Starts counting from now. */
  static CpuTime start() {
    CpuTime t = new CpuTime();
    t.processStartNanos = PROCESS.getProcessCpuTime();
    t.nativeStart = nativeSeconds();
    t.read(t.startNanos);
    return t;
  }

  /** CPU seconds by group since {@link #start()}, of threads alive now. */
  Map<String, Double> secondsByGroup() {
    Map<Long, Long> now = new LinkedHashMap<>();
    read(now);
    long process = PROCESS.getProcessCpuTime() - processStartNanos;
    Map<String, Double> out = new LinkedHashMap<>();
    for (String g :
        new String[] {"S3 server", "our gRPC", "benchmark client", "AWS SDK", "other"}) {
      out.put(g, 0.0);
    }
    long threads = 0;
    for (Map.Entry<Long, Long> e : now.entrySet()) {
      long used = e.getValue() - startNanos.getOrDefault(e.getKey(), 0L);
      threads += used;
      out.merge(groups.get(e.getKey()), used / 1e9, Double::sum);
    }
    double beyond = Math.max(0, process - threads) / 1e9;
    Map<String, Double> nativeNow = nativeSeconds();
    if (nativeStart == null || nativeNow == null) {
      out.put("JIT and GC", beyond);
      return out;
    }
    double jit = nativeNow.get("JIT") - nativeStart.get("JIT");
    double gc = nativeNow.get("GC") - nativeStart.get("GC");
    out.put("JIT", jit);
    out.put("GC", gc);
    out.put("VM other", Math.max(0, beyond - jit - gc));
    return out;
  }

  /**
   * The split as text, with the total and how many cores it kept busy over {@code wallSeconds},
   * e.g. {@code S3 server 1.2, our gRPC 1.0, benchmark client 0.5, AWS SDK 0.4, other 0.1, JIT
   * 0.1, GC 0.2, VM other 0.0 CPU s; 3.5 CPU s in all, 1.8 of 2 cores busy}.
   */
  String describe(double wallSeconds) {
    StringBuilder b = new StringBuilder();
    double total = 0;
    for (Map.Entry<String, Double> e : secondsByGroup().entrySet()) {
      b.append(b.length() == 0 ? "" : ", ")
          .append(e.getKey())
          .append(' ')
          .append(String.format("%.1f", e.getValue()));
      total += e.getValue();
    }
    return b.append(
            String.format(
                " CPU s; %.1f CPU s in all, %.1f of %d cores busy",
                total, total / wallSeconds, Runtime.getRuntime().availableProcessors()))
        .toString();
  }

  private void read(Map<Long, Long> into) {
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long nanos = THREADS.getThreadCpuTime(info.getThreadId());
      if (nanos < 0) {
        continue;
      }
      into.put(info.getThreadId(), nanos);
      groups.put(info.getThreadId(), group(info.getThreadName()));
    }
  }

  /**
   * CPU seconds the JIT compiler threads and the garbage collector's threads have used so far, as
   * {@code /proc} counts them; null where it cannot be read.
   */
  private static Map<String, Double> nativeSeconds() {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("JIT", 0.0);
    out.put("GC", 0.0);
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String kind;
        String stat;
        try {
          kind = nativeGroup(Files.readString(task.resolve("comm")).strip());
          if (kind == null) {
            continue;
          }
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException ended) {
          continue;
        }
        // Fields after the parenthesised name: state is the 3rd field, utime the 14th, stime the
        // 15th.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        out.merge(kind, ticks * SECONDS_PER_TICK, Double::sum);
      }
    } catch (IOException | RuntimeException unreadable) {
      return null;
    }
    return out;
  }

  /** HotSpot's names for its compiler and collector threads, as Linux shortens them. */
  private static String nativeGroup(String comm) {
    if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
      return "JIT";
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
      return "GC";
    }
    return null;
  }

  private static String group(String thread) {
    if (thread.startsWith("http-nio-") || thread.startsWith("https-jsse-nio-")) {
      return "S3 server";
    }
    if (thread.startsWith("grpc-")) {
      return "our gRPC";
    }
    if (thread.startsWith(CLIENT_THREADS)) {
      return "benchmark client";
    }
    if (thread.startsWith("aws-java-sdk-") || thread.startsWith("sdk-async-response-")) {
      return "AWS SDK";
    }
    return "other";
  }
}
