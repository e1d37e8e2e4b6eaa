package dev.bytestreams3.benchmarks;

import java.util.Arrays;

/** Latencies of many operations, in nanoseconds, and their percentiles. */
final class Latencies {

  private final long[] nanos;
  private int count;

  Latencies(int capacity) {
    this.nanos = new long[capacity];
  }

  synchronized void add(long n) {
    nanos[count++] = n;
  }

  /** The {@code p}-th percentile (0..100) in milliseconds, nearest rank. */
  synchronized double percentileMillis(double p) {
    if (count == 0) {
      return 0;
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * count) - 1;
    return sorted[Math.max(0, Math.min(count - 1, rank))] / 1e6;
  }
}
