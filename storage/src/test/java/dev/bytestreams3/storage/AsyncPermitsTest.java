package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AsyncPermitsTest {

  @Test
  void tasksThatCompleteAtOnce_runOneAfterAnother_withoutDeepStacks() {
    AsyncPermits permits = new AsyncPermits(1);
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    all.add(permits.run(() -> gate.thenApply(v -> -1)));
    for (int i = 0; i < 200_000; i++) {
      int n = i;
      all.add(permits.run(() -> CompletableFuture.completedFuture(n)));
    }
    gate.complete(null);
    assertThat(all.get(200_000).join()).isEqualTo(199_999);
    assertThat(permits.running()).isZero();
  }

  @Test
  void neverMoreThanThePermitsInFlight() throws Exception {
    AsyncPermits permits = new AsyncPermits(3);
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(8);
    AtomicInteger now = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    try {
      for (int i = 0; i < 60; i++) {
        all.add(
            permits.run(
                () -> {
                  peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                  CompletableFuture<Void> f = new CompletableFuture<>();
                  timer.schedule(
                      () -> {
                        now.decrementAndGet();
                        f.complete(null);
                      },
                      2, TimeUnit.MILLISECONDS);
                  return f;
                }));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } finally {
      timer.shutdownNow();
    }
    assertThat(peak.get()).isEqualTo(3);
  }
}
