package dev.bytestreams3.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of this JVM's threads, summed by what they work for, as their names tell: the S3
 * server run in process (S3Mock's Tomcat threads), gRPC (our server and the benchmark's client
 * share gRPC's default threads), the AWS SDK (our store's client and the baseline's), and the
 * rest, and what the process used beyond the threads Java lists: the JIT compiler, the garbage
 * collector and threads that ended meanwhile. On a machine of two cores, all of it competes for
 * the same two cores.
 */
final class CpuTime {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static final OperatingSystemMXBean PROCESS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private final Map<Long, Long> startNanos = new LinkedHashMap<>();
  private final Map<Long, String> groups = new LinkedHashMap<>();
  private long processStartNanos;

  private CpuTime() {}

  /** Starts counting from now. */
  static CpuTime start() {
    CpuTime t = new CpuTime();
    t.processStartNanos = PROCESS.getProcessCpuTime();
    t.read(t.startNanos);
    return t;
  }

  /** CPU seconds by group since {@link #start()}, of threads alive now. */
  Map<String, Double> secondsByGroup() {
    Map<Long, Long> now = new LinkedHashMap<>();
    read(now);
    long process = PROCESS.getProcessCpuTime() - processStartNanos;
    Map<String, Double> out = new LinkedHashMap<>();
    for (String g : new String[] {"S3 server", "gRPC", "AWS SDK", "other"}) {
      out.put(g, 0.0);
    }
    long threads = 0;
    for (Map.Entry<Long, Long> e : now.entrySet()) {
      long used = e.getValue() - startNanos.getOrDefault(e.getKey(), 0L);
      threads += used;
      out.merge(groups.get(e.getKey()), used / 1e9, Double::sum);
    }
    out.put("JIT and GC", Math.max(0, process - threads) / 1e9);
    return out;
  }

  /**
   * The split as text, e.g. {@code S3 server 1.2, gRPC 2.0, AWS SDK 0.4, other 0.1, JIT and GC 0.3
   * CPU s}.
   */
  String describe() {
    StringBuilder b = new StringBuilder();
    secondsByGroup()
        .forEach(
            (g, s) -> b.append(b.length() == 0 ? "" : ", ").append(g).append(' ')
                .append(String.format("%.1f", s)));
    return b.append(" CPU s").toString();
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

  private static String group(String thread) {
    if (thread.startsWith("http-nio-") || thread.startsWith("https-jsse-nio-")) {
      return "S3 server";
    }
    if (thread.startsWith("grpc-")) {
      return "gRPC";
    }
    if (thread.startsWith("aws-java-sdk-") || thread.startsWith("sdk-async-response-")) {
      return "AWS SDK";
    }
    return "other";
  }
}
