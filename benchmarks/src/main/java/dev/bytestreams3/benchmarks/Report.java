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
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The results as a console table, as {@code BENCHMARKS.md} (a compact table, each row's full
 * note below it) and as charts.
 */
final class Report {

  static final String MARKDOWN = "BENCHMARKS.md";
  static final String CHART = "docs/benchmarks-concurrency.png";
  static final String REBUILD_CHART = "docs/benchmarks-rebuild.png";

  private final List<Row> rows;
  private final List<double[]> sweep;
  private final Map<String, Double> rebuildSeconds;
  private final String flags;

  /**
   * @param rebuildSeconds the warm rebuild's time on each server, by server; empty when not run
   */
  Report(List<Row> rows, List<double[]> sweep, Map<String, Double> rebuildSeconds, String flags) {
    this.rows = rows;
    this.sweep = sweep;
    this.rebuildSeconds = rebuildSeconds;
    this.flags = flags;
  }

  /** The table, one row per line, columns separated by {@code |}, each note its first clause. */
  String table() {
    StringBuilder b = new StringBuilder();
    b.append("| scenario | ours | baseline | unit | ratio | target | met | notes |\n");
    b.append("|---|---:|---:|---|---:|---|---|---|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %s | %s | %s | %s |%n",
          r.scenario(), r.ours(), r.baseline(), r.unit(),
          r.ratioText(),
          r.target(), r.verdict(), shortNote(r.note())));
    }
    return b.toString();
  }

  /** The first clause of {@code note}: what the baseline is, or the one fact the row rests on. */
  static String shortNote(String note) {
    int end = note.indexOf("; ");
    return end < 0 ? note : note.substring(0, end);
  }

  /** Every row's full note, one list item a row. */
  String notes() {
    StringBuilder b = new StringBuilder();
    for (Row r : rows) {
      b.append("- **").append(r.scenario()).append("**: ").append(r.note()).append('\n');
    }
    return b.toString();
  }

  /** Writes {@code BENCHMARKS.md} and the chart under {@code out}. */
  void write(Path out, String findings) throws IOException {
    Path chart = out.resolve(CHART);
    Files.createDirectories(chart.getParent());
    writeChart(chart);
    String rebuildChart = "";
    if (!rebuildSeconds.isEmpty()) {
      writeRebuildChart(out.resolve(REBUILD_CHART));
      rebuildChart = "![a warm rebuild's time on each store](" + REBUILD_CHART + ")\n\n";
    }
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
            + rebuildChart
            + "## Notes of this run\n\n"
            + "Each row's measurement in full; the table gives the first clause of each.\n\n"
            + notes()
            + "\n"
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

  private void writeRebuildChart(Path file) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(800)
            .height(400)
            .title("Warm rebuild: the same calls against each store")
            .xAxisTitle("server's store")
            .yAxisTitle("seconds, logarithmic (lower is better)")
            .build();
    chart.getStyler().setLegendVisible(false);
    // The stores differ by a hundred times or more: on a linear axis the fast ones vanish.
    chart.getStyler().setYAxisLogarithmic(true);
    // Bars rise from the axis's floor, which a logarithmic axis cannot put at zero.
    chart.getStyler().setYAxisMin(rebuildSeconds.values().stream().mapToDouble(d -> d).min().orElse(1) / 4);
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setLabelsPosition(0.5);
    chart.getStyler().setDecimalPattern("0.00");
    chart.addSeries(
        "warm rebuild", List.copyOf(rebuildSeconds.keySet()), List.copyOf(rebuildSeconds.values()));
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
