package dev.bytestreams3.benchmarks;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/** Publishes the bytes of a {@link RepeatedBytes} as read-only buffers, as fast as they are requested. */
final class RepeatedBytesPublisher implements Publisher<ByteBuffer> {

  private static final int CHUNK = 1 << 20;

  private final RepeatedBytes source;

  RepeatedBytesPublisher(RepeatedBytes source) {
    this.source = source;
  }

  @Override
  public void subscribe(Subscriber<? super ByteBuffer> s) {
    s.onSubscribe(
        new Subscription() {
          final AtomicLong demand = new AtomicLong();
          long offset;
          boolean draining;
          boolean cancelled;

          @Override
          public void request(long n) {
            if (n <= 0) {
              s.onError(new IllegalArgumentException("request: " + n + " (expected: > 0)"));
              return;
            }
            demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            synchronized (this) {
              if (draining) {
                return;
              }
              draining = true;
            }
            drain();
          }

          private void drain() {
            while (true) {
              synchronized (this) {
                if (cancelled || offset >= source.size() || demand.get() == 0) {
                  draining = false;
                  if (!cancelled && offset >= source.size()) {
                    cancelled = true;
                    s.onComplete();
                  }
                  return;
                }
              }
              demand.decrementAndGet();
              ByteBuffer b = source.slice(offset, CHUNK).asReadOnlyByteBuffer();
              offset += b.remaining();
              s.onNext(b);
            }
          }

          @Override
          public synchronized void cancel() {
            cancelled = true;
          }
        });
  }
}
