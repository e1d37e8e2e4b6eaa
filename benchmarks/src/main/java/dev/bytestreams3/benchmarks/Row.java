package dev.bytestreams3.benchmarks;

/**
 * One line of the results: a figure of ours beside its baseline's, the ratio, and whether the
 * target holds. {@code higherIsBetter} says which way the ratio must go; a row with no baseline
 * carries its verdict in {@code met} alone.
 */
record Row(
    String scenario,
    String unit,
    double ours,
    double baseline,
    String target,
    boolean met,
    String note) {

  /** A row measured against a baseline: met when ours/baseline reaches {@code minRatio} (or stays under {@code maxRatio}). */
  static Row compared(
      String scenario, String unit, double ours, double baseline, double bound, boolean higherIsBetter, String note) {
    double ratio = ours / baseline;
    boolean met = higherIsBetter ? ratio >= bound : ratio <= bound;
    return new Row(
        scenario, unit, ours, baseline, (higherIsBetter ? "≥ " : "≤ ") + bound + "×", met, note);
  }

  double ratio() {
    return baseline > 0 ? ours / baseline : Double.NaN;
  }
}
