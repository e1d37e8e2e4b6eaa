package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/** A request body sends its bytes to every subscriber until released, and nothing after. */
class ReleasableBodyTest {

  /** Subscribes and collects the body: its bytes, or the error it ended with. */
  private static CompletableFuture<byte[]> collect(ReleasableBody body) {
    CompletableFuture<byte[]> done = new CompletableFuture<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    body.subscribe(
        new Subscriber<ByteBuffer>() {
          @Override
          public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
          }

          @Override
          public void onNext(ByteBuffer b) {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            out.writeBytes(a);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onComplete() {
            done.complete(out.toByteArray());
          }
        });
    return done;
  }

  @Test
  void everySubscriptionSendsTheSameBytes_untilReleased() throws Exception {
    ByteBuffer first = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5});
    first.position(1);
    ReleasableBody body =
        new ReleasableBody(new ByteBuffer[] {first, ByteBuffer.wrap(new byte[] {6, 7})});
    assertThat(body.contentLength()).contains(6L);
    byte[] expected = {2, 3, 4, 5, 6, 7};
    assertThat(collect(body).get(5, TimeUnit.SECONDS)).containsExactly(expected);
    // A retry subscribes again and must send the same bytes; the buffers themselves are unmoved.
    assertThat(collect(body).get(5, TimeUnit.SECONDS)).containsExactly(expected);
    assertThat(first.position()).isEqualTo(1);

    body.release();
    CompletableFuture<byte[]> late = collect(body);
    assertThat(late).isCompletedExceptionally();
    assertThat(late.handle((v, t) -> t.getMessage()).get())
        .isEqualTo("the body of this request was released after it ended");
  }
}
