package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
  void waitingReservations_countsCallersWaitingForBytes_notThoseThatGaveUp() {
    MemoryBudget budget = new MemoryBudget(100);
    assertThat(budget.waitingReservations()).isZero();
    MemoryBudget.Reservation first = budget.reserve(90).join();
    CompletableFuture<MemoryBudget.Reservation> second = budget.reserve(50);
    CompletableFuture<MemoryBudget.Reservation> third = budget.reserve(50);
    assertThat(budget.waitingReservations()).isEqualTo(2);
    third.cancel(false);
    assertThat(budget.waitingReservations()).isEqualTo(1);
    first.close();
    assertThat(second).isDone();
    assertThat(budget.waitingReservations()).isZero();
  }

  @Test
  void reserve_largerThanBudget_isGrantedAloneSoItCannotWaitForever() {
    MemoryBudget budget = new MemoryBudget(100);
    MemoryBudget.Reservation small = budget.reserve(1).join();
    CompletableFuture<MemoryBudget.Reservation> big = budget.reserve(500);
    assertThat(big).isNotDone();
    small.close();
    assertThat(big).isDone();
    assertThat(budget.usedBytes()).isEqualTo(500);
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
    assertThatThrownBy(() -> new MemoryBudget(10).reserve(-1))
        .hasMessage("bytes: -1 (expected: >= 0)");
  }
}
