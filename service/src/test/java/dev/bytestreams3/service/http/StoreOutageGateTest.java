package dev.bytestreams3.service.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.service.observe.LogFormat;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** New calls fail fast while the store does not answer, and are served once it does again. */
class StoreOutageGateTest {

  private static final Duration TIMEOUT = Duration.ofMillis(300);

  @TempDir Path dir;

  private LocalBlobStore local;

  @AfterEach
  void stop() {
    local.close();
  }

  /** A real store that, while dark, answers nothing: each request hangs until it comes back. */
  private static final class DarkableStore extends ForwardingStore {
    volatile boolean dark;
    /** Whether only the health lookup hangs, as when it waits behind a busy store's requests. */
    volatile boolean lookupsWait;
    final List<CompletableFuture<OptionalLong>> hanging = new CopyOnWriteArrayList<>();

    DarkableStore(LocalBlobStore inner) {
      super(inner);
    }

    @Override
    public CompletableFuture<OptionalLong> size(BlobKey key) {
      if (dark || (lookupsWait && key.value().equals("readiness-probe"))) {
        CompletableFuture<OptionalLong> f = new CompletableFuture<>();
        hanging.add(f);
        return f;
      }
      return super.size(key);
    }
  }

  @Test
  void storeBusyButAnswering_isNotRefused_thoughItsLookupsTimeOut() throws Exception {
    local = new LocalBlobStore(dir.resolve("store"), 1 << 20, 4);
    DarkableStore store = new DarkableStore(local);
    List<String> lines = new CopyOnWriteArrayList<>();
    StoreReadiness readiness = new StoreReadiness(store, TIMEOUT, Duration.ZERO);
    StoreOutageGate gate =
        new StoreOutageGate(store, readiness, new EventLog(LogFormat.TEXT, lines::add, Clock.systemUTC()));
    BlobKey key = BlobKey.of("a/blob");
    gate.put(key, ByteBuffer.wrap(new byte[] {1, 2, 3})).get(5, TimeUnit.SECONDS);

    store.lookupsWait = true;
    long start = System.nanoTime();
    while (System.nanoTime() - start < TIMEOUT.multipliedBy(5).toNanos()) {
      assertThat(gate.size(key).get(5, TimeUnit.SECONDS)).hasValue(3);
      Thread.sleep(20);
    }
    assertThat(readiness.unreachable()).isTrue();
    assertThat(lines).noneMatch(l -> l.contains("store-unreachable"));
  }

  @Test
  void storeGoesDark_newCallsFailFastNamingTheOutage_callsInFlightRunOn_andServedAgainAfter()
      throws Exception {
    local = new LocalBlobStore(dir.resolve("store"), 1 << 20, 4);
    DarkableStore store = new DarkableStore(local);
    List<String> lines = new CopyOnWriteArrayList<>();
    StoreReadiness readiness = new StoreReadiness(store, TIMEOUT, Duration.ZERO);
    StoreOutageGate gate =
        new StoreOutageGate(store, readiness, new EventLog(LogFormat.TEXT, lines::add, Clock.systemUTC()));
    BlobKey key = BlobKey.of("a/blob");
    gate.put(key, ByteBuffer.wrap(new byte[] {1, 2, 3})).get(5, TimeUnit.SECONDS);
    assertThat(gate.size(key).get(5, TimeUnit.SECONDS)).hasValue(3);

    store.dark = true;
    long dark = System.nanoTime();
    CompletableFuture<OptionalLong> inFlight = gate.size(key);
    CompletableFuture<OptionalLong> refused;
    do {
      assertThat(Duration.ofNanos(System.nanoTime() - dark)).isLessThan(Duration.ofSeconds(5));
      Thread.sleep(10);
      refused = gate.size(key);
    } while (!refused.isDone());
    Duration toFirst = Duration.ofNanos(System.nanoTime() - dark);
    // Two lookups' timeouts, and not a request's retries, are how long it takes to know.
    assertThat(toFirst).isBetween(TIMEOUT.multipliedBy(2), TIMEOUT.multipliedBy(2).plusMillis(700));
    assertThat(refused)
        .failsWithin(Duration.ZERO)
        .withThrowableThat()
        .satisfies(
            t -> {
              StorageException e = StorageException.from(t);
              assertThat(e.reason()).isEqualTo(StorageException.Reason.UNAVAILABLE);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "the store did not answer its last two health lookups within 300 ms; calls"
                          + " that need it are refused until it answers again, retry later");
            });
    assertThat(inFlight).isNotDone();
    for (int i = 0; i < 5; i++) {
      assertThat(gate.size(key)).isCompletedExceptionally();
    }

    store.dark = false;
    store.hanging.forEach(f -> f.complete(OptionalLong.of(3)));
    assertThat(inFlight.get(5, TimeUnit.SECONDS)).hasValue(3);
    long back = System.nanoTime();
    CompletableFuture<OptionalLong> served;
    do {
      assertThat(Duration.ofNanos(System.nanoTime() - back)).isLessThan(Duration.ofSeconds(5));
      Thread.sleep(10);
      served = gate.size(key);
    } while (served.isCompletedExceptionally());
    assertThat(served.get(5, TimeUnit.SECONDS)).hasValue(3);
    assertThat(lines).filteredOn(l -> l.contains("event=store-unreachable")).hasSize(1);
    assertThat(lines).filteredOn(l -> l.contains("event=store-reachable")).hasSize(1);
  }
}
