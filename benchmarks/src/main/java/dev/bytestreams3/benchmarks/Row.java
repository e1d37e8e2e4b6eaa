package dev.bytestreams3.benchmarks;

import java.util.Locale;

/**
 * One line of the results: a figure of ours beside its baseline's, the ratio, and whether the
 * target holds. {@code higherIsBetter} says which way the ratio must go; a row with no baseline
 * carries its verdict in {@code met} alone. A row that misses its target may name, in {@code
 * limit}, the limit that is not ours, its evidence in the note; empty otherwise.
 */
record Row(
    String scenario,
    String unit,
    double ours,
    double baseline,
    String target,
    boolean met,
    String limit,
    String note) {

  Row(
      String scenario,
      String unit,
      double ours,
      double baseline,
      String target,
      boolean met,
      String note) {
    this(scenario, unit, ours, baseline, target, met, "", note);
  }

  /** A row measured against a baseline: met when ours/baseline reaches {@code minRatio} (or stays under {@code maxRatio}). */
  static Row compared(
      String scenario, String unit, double ours, double baseline, double bound, boolean higherIsBetter, String note) {
    double ratio = ours / baseline;
    boolean met = higherIsBetter ? ratio >= bound : ratio <= bound;
    return new Row(
        scenario, unit, ours, baseline, (higherIsBetter ? "≥ " : "≤ ") + bound + "×", met, note);
  }

  /** The target column of a row measured for its figures alone. */
  static final String NO_TARGET = "—";

  /** A row measured against a baseline for its figures alone, with no target to meet. */
  static Row measured(String scenario, String unit, double ours, double baseline, String note) {
    return new Row(scenario, unit, ours, baseline, NO_TARGET, true, note);
  }

  /** This row naming {@code limit} as what stops it, when it misses its target. */
  Row limitedBy(String limit) {
    return met ? this : new Row(scenario, unit, ours, baseline, target, false, limit, note);
  }

  /** This row with {@code more} added to its note. */
  Row noted(String more) {
    return new Row(scenario, unit, ours, baseline, target, met, limit, note + more);
  }

  /** The verdict column: yes, no, or no with the limit that is not ours. */
  String verdict() {
    if (target.equals(NO_TARGET)) {
      return NO_TARGET;
    }
    return met ? "yes" : limit.isEmpty() ? "**no**" : "no; limit: " + limit;
  }

  double ratio() {
    return baseline > 0 ? ours / baseline : Double.NaN;
  }

  /**
   * The ratio to two decimals, rounded the way that cannot cross the target: down where the ratio
   * must reach it, up where it must stay under it, so that a row shown at its bound has met it.
   */
  String ratioText() {
    double r = ratio();
    if (Double.isNaN(r)) {
      return "—";
    }
    return target.startsWith("≤") ? atMostText(r) : atLeastText(r);
  }

  /** {@code ratio} to two decimals, rounded down: shown at a lower bound only if it reaches it. */
  static String atLeastText(double ratio) {
    // The small slack keeps a ratio computed a hair off a whole hundredth on that hundredth.
    return String.format(Locale.ROOT, "%.2f×", Math.floor(ratio * 100 + 1e-9) / 100);
  }

  /** {@code ratio} to two decimals, rounded up: shown at an upper bound only when within it. */
  static String atMostText(double ratio) {
    return String.format(Locale.ROOT, "%.2f×", Math.ceil(ratio * 100 - 1e-9) / 100);
  }
}
