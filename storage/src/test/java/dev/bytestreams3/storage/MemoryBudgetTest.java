package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

  @Test
  void reserve_withinBudget_isGrantedAtOnce() {
    MemoryBudget budget = new MemoryBudget(100);
    MemoryBudget.Reservation r = budget.reserve(60).join();
    assertThat(budget.usedBytes()).isEqualTo(60);
    r.close();
    r.close();
    assertThat(budget.usedBytes()).isZero();
    assertThat(budget.peakBytes()).isEqualTo(60);
  }

  @Test
  void reserve_pastBudget_waitsInOrderUntilReleased() {
    MemoryBudget budget = new MemoryBudget(100);
    MemoryBudget.Reservation first = budget.reserve(80).join();
    CompletableFuture<MemoryBudget.Reservation> second = budget.reserve(50);
    CompletableFuture<MemoryBudget.Reservation> third = budget.reserve(10);
    assertThat(second).isNotDone();
    // First come, first served: a small request does not overtake a waiting large one.
    assertThat(third).isNotDone();
    assertThat(budget.tryReserve(10)).isNull();
    first.close();
    assertThat(second).isDone();
    assertThat(third).isDone();
    assertThat(budget.usedBytes()).isEqualTo(60);
    assertThat(budget.peakBytes()).isEqualTo(80);
  }

  @Test
  void reserve_largerThanTheLargestShare_isRefusedAtOnce_andQueuesNothing() {
    MemoryBudget budget = new MemoryBudget(100, 25);
    CompletableFuture<MemoryBudget.Reservation> big = budget.reserve(26);
    assertThat(big).isCompletedExceptionally();
    assertThatThrownBy(big::join)
        .hasCauseInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a buffer of 26 bytes is more than one caller may hold")
        .hasMessageContaining("<= 25 bytes of a memory budget of 100");
    assertThat(budget.admits(26)).isFalse();
    assertThat(budget.admits(25)).isTrue();
    assertThat(budget.refusedTotal()).isEqualTo(2);
    assertThat(budget.waiting()).isZero();
    // Nothing was taken: the whole budget is there for those within the share.
    List<MemoryBudget.Reservation> four = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      four.add(budget.reserve(25).join());
    }
    assertThat(budget.usedBytes()).isEqualTo(100);
    four.forEach(MemoryBudget.Reservation::close);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void cancelledWaiter_leavesTheQueueAtOnce_andThoseBehindItAreServed() {
    MemoryBudget budget = new MemoryBudget(100, 60);
    MemoryBudget.Reservation held = budget.reserve(50).join();
    CompletableFuture<MemoryBudget.Reservation> head = budget.reserve(60);
    CompletableFuture<MemoryBudget.Reservation> behind = budget.reserve(40);
    assertThat(budget.waiting()).isEqualTo(2);
    // The head cannot fit, and the one behind it, which could, waits its turn.
    assertThat(behind).isNotDone();

    head.cancel(false);
    assertThat(budget.waiting()).isZero();
    assertThat(behind).isCompleted();
    assertThat(budget.usedBytes()).isEqualTo(90);
    assertThat(budget.waitsTotal()).isEqualTo(2);
    behind.join().close();
    held.close();
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void waiters_areServedInTheOrderTheyAsked_andTheirWaitIsCounted() throws Exception {
    MemoryBudget budget = new MemoryBudget(100, 50);
    MemoryBudget.Reservation a = budget.reserve(50).join();
    MemoryBudget.Reservation b = budget.reserve(50).join();
    CompletableFuture<MemoryBudget.Reservation> first = budget.reserve(50);
    CompletableFuture<MemoryBudget.Reservation> second = budget.reserve(10);
    Thread.sleep(20);
    a.close();
    assertThat(first).isCompleted();
    assertThat(second).isNotDone();
    b.close();
    assertThat(second).isCompleted();
    assertThat(budget.waitNanosTotal()).isGreaterThanOrEqualTo(20_000_000L);
    first.join().close();
    second.join().close();
  }

  @Test
  void tryReserve_withACeiling_grantsOnlyBelowIt() {
    MemoryBudget budget = new MemoryBudget(100);
    MemoryBudget.Reservation r = budget.tryReserve(40, 50);
    assertThat(r).isNotNull();
    assertThat(budget.tryReserve(20, 50)).isNull();
    assertThat(budget.tryReserve(20)).isNotNull();
  }

  @Test
  void tryReserve_neverGrantsMoreThanTheBudget_evenWhenNothingIsReserved() {
    MemoryBudget budget = new MemoryBudget(100);
    assertThat(budget.tryReserve(101)).isNull();
    try (MemoryBudget.Reservation all = budget.tryReserve(100)) {
      assertThat(all).isNotNull();
      assertThat(budget.tryReserve(1)).isNull();
    }
    assertThat(budget.usedBytes()).isZero();
    assertThat(budget.peakBytes()).isEqualTo(100);
  }

  @Test
  void shrinkTo_returnsTheRestToWaiters() {
    MemoryBudget budget = new MemoryBudget(100);
    MemoryBudget.Reservation r = budget.reserve(90).join();
    CompletableFuture<MemoryBudget.Reservation> waiting = budget.reserve(50);
    assertThat(waiting).isNotDone();
    r.shrinkTo(20);
    assertThat(r.bytes()).isEqualTo(20);
    assertThat(waiting).isDone();
    assertThat(budget.usedBytes()).isEqualTo(70);
    // Growing is not shrinking: nothing changes.
    r.shrinkTo(60);
    assertThat(budget.usedBytes()).isEqualTo(70);
    r.close();
    r.shrinkTo(0);
    assertThat(budget.usedBytes()).isEqualTo(50);
    assertThatThrownBy(() -> r.shrinkTo(-1)).hasMessage("keep: -1 (expected: >= 0)");
  }

  @Test
  void badArguments_nameTheProblem() {
    assertThatThrownBy(() -> new MemoryBudget(0)).hasMessage("capacityBytes: 0 (expected: > 0)");
    assertThatThrownBy(() -> new MemoryBudget(10, 11))
        .hasMessage("maxReservationBytes: 11 (expected: 1 to 10)");
    assertThatThrownBy(() -> new MemoryBudget(10).reserve(-1))
        .hasMessage("bytes: -1 (expected: >= 0)");
  }
}
