package dev.bytestreams3.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/** The results as a console table, as {@code BENCHMARKS.md} and as a chart. */
final class Report {

  static final String MARKDOWN = "BENCHMARKS.md";
  static final String CHART = "docs/benchmarks-concurrency.png";

  private final List<Row> rows;
  private final List<double[]> sweep;
  private final String flags;

  Report(List<Row> rows, List<double[]> sweep, String flags) {
    this.rows = rows;
    this.sweep = sweep;
    this.flags = flags;
  }

  /** The table, one row per line, columns separated by {@code |}. */
  String table() {
    StringBuilder b = new StringBuilder();
    b.append("| scenario | ours | baseline | unit | ratio | target | met | notes |\n");
    b.append("|---|---:|---:|---|---:|---|---|---|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %s | %s | %s | %s |%n",
          r.scenario(), r.ours(), r.baseline(), r.unit(),
          r.ratioText(),
          r.target(), r.verdict(), r.note()));
    }
    return b.toString();
  }

  /** Writes {@code BENCHMARKS.md} and the chart under {@code out}. */
  void write(Path out, String findings) throws IOException {
    Path chart = out.resolve(CHART);
    Files.createDirectories(chart.getParent());
    writeChart(chart);
    String md =
        "# Benchmarks\n\n"
            + "Our server against the AWS SDK talking to the same S3 server from the same JVM, in one run;"
            + " ratios are ours ÷ baseline.\n\n"
            + "- Date: " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n"
            + "- Machine: " + machine() + "\n"
            + "- Command: `./mvnw -B -q -pl benchmarks -am verify -Pbenchmark -DskipTests"
            + " -Dbenchmark.flags=\"" + flags + "\"`\n\n"
            + table()
            + "\n![writes per second against concurrency](" + CHART + ")\n\n"
            + findings;
    Files.writeString(out.resolve(MARKDOWN), md, StandardCharsets.UTF_8);
  }

  private void writeChart(Path file) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(800)
            .height(500)
            .title("Small-blob writes against concurrency")
            .xAxisTitle("concurrent streams / requests")
            .yAxisTitle("writes per second")
            .build();
    double[] x = sweep.stream().mapToDouble(p -> p[0]).toArray();
    chart.addSeries("ByteStream Write through our server", x, sweep.stream().mapToDouble(p -> p[1]).toArray());
    chart.addSeries("SDK PutObject", x, sweep.stream().mapToDouble(p -> p[2]).toArray());
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  static String machine() {
    Runtime rt = Runtime.getRuntime();
    String cpu = "";
    try {
      cpu =
          Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                  .filter(l -> l.startsWith("model name"))
                  .findFirst()
                  .map(l -> l.substring(l.indexOf(':') + 1).trim() + ", ")
                  .orElse("");
    } catch (IOException | RuntimeException e) {
      // Not Linux: the processor count still says something.
    }
    long ram = 0;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      ram = os.getTotalMemorySize() >> 30;
    }
    return cpu + rt.availableProcessors() + " cores, " + ram + " GiB RAM, "
        + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
        + System.getProperty("java.version") + ", benchmark heap " + (rt.maxMemory() >> 20) + " MiB";
  }
}
