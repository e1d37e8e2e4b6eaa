package dev.bytestreams3.service.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreReadinessTest {

  @TempDir Path dir;

  private LocalBlobStore local;
  private final AtomicInteger lookups = new AtomicInteger();
  private volatile CompletableFuture<OptionalLong> nextAnswer;
  private final AtomicLong now = new AtomicLong();

  /** The local store, counting lookups; answers {@link #nextAnswer} instead when one is set. */
  private final class CountingStore extends ForwardingStore {
    CountingStore() {
      super(local);
    }

    @Override
    public CompletableFuture<OptionalLong> size(BlobKey key) {
      lookups.incrementAndGet();
      CompletableFuture<OptionalLong> a = nextAnswer;
      return a != null ? a : super.size(key);
    }
  }

  @BeforeEach
  void open() {
    local = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
  }

  @AfterEach
  void close() {
    local.close();
  }

  private StoreReadiness readiness(Duration timeout, Duration cacheFor) {
    return new StoreReadiness(new CountingStore(), timeout, cacheFor, now::get);
  }

  @Test
  void probesWithinTheCacheTime_shareOneLookup() throws Exception {
    StoreReadiness r = readiness(Duration.ofSeconds(2), Duration.ofSeconds(2));
    List<CompletableFuture<Boolean>> answers = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      answers.add(r.ready());
      now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10));
    }
    for (CompletableFuture<Boolean> a : answers) {
      assertThat(a.get(5, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(lookups.get()).isEqualTo(1);

    now.addAndGet(TimeUnit.SECONDS.toNanos(2));
    assertThat(r.ready().get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(lookups.get()).isEqualTo(2);
  }

  @Test
  void probesWhileALookupIsUnderWay_waitForIt_andDoNotStartAnother() throws Exception {
    StoreReadiness r = readiness(Duration.ofSeconds(5), Duration.ZERO);
    CompletableFuture<OptionalLong> slow = new CompletableFuture<>();
    nextAnswer = slow;
    CompletableFuture<Boolean> first = r.ready();
    now.addAndGet(TimeUnit.SECONDS.toNanos(3));
    CompletableFuture<Boolean> second = r.ready();
    assertThat(lookups.get()).isEqualTo(1);
    assertThat(second).isNotDone();
    slow.complete(OptionalLong.empty());
    assertThat(first.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(second.get(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aFailedLookup_isNotReady_andTheNextProbeAfterTheCacheTimeAsksAgain() throws Exception {
    StoreReadiness r = readiness(Duration.ofSeconds(2), Duration.ofSeconds(1));
    nextAnswer =
        CompletableFuture.failedFuture(
            new StorageException(StorageException.Reason.UNAVAILABLE, "HEAD: 503 SlowDown"));
    assertThat(r.ready().get(5, TimeUnit.SECONDS)).isFalse();
    nextAnswer = null;
    assertThat(r.ready().get(5, TimeUnit.SECONDS)).isFalse();
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertThat(r.ready().get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(lookups.get()).isEqualTo(2);
  }

  @Test
  void aLookupThatNeverAnswers_isNotReadyAfterTheTimeout() throws Exception {
    StoreReadiness r = readiness(Duration.ofMillis(200), Duration.ZERO);
    nextAnswer = new CompletableFuture<>();
    long start = System.nanoTime();
    assertThat(r.ready().get(5, TimeUnit.SECONDS)).isFalse();
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(3));
  }
}
