package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Collects the body of one ranged GET into a {@link ChunkedBuffer} of exactly the range's size,
 * so a segment costs the bytes reserved for it and no growing copies.
 */
final class SegmentTransformer implements AsyncResponseTransformer<GetObjectResponse, ChunkedBuffer> {

  private final int length;
  private volatile ChunkedBuffer buffer;
  private volatile CompletableFuture<ChunkedBuffer> result;

  SegmentTransformer(int length) {
    this.length = length;
  }

  @Override
  public CompletableFuture<ChunkedBuffer> prepare() {
    // Called again on every retry: start over with a clean buffer.
    buffer = new ChunkedBuffer(length);
    result = new CompletableFuture<>();
    return result;
  }

  @Override
  public void onResponse(GetObjectResponse response) {}

  @Override
  public void onStream(SdkPublisher<ByteBuffer> publisher) {
    ChunkedBuffer target = buffer;
    CompletableFuture<ChunkedBuffer> done = result;
    publisher.subscribe(
        new Subscriber<ByteBuffer>() {
          private Subscription subscription;

          @Override
          public void onSubscribe(Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
          }

          @Override
          public void onNext(ByteBuffer b) {
            if (b.remaining() > target.remaining()) {
              subscription.cancel();
              done.completeExceptionally(
                  new IllegalStateException(
                      "S3 sent more than the " + length + " bytes of the requested range"));
              return;
            }
            target.put(b);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onComplete() {
            if (target.remaining() > 0) {
              done.completeExceptionally(
                  new IllegalStateException(
                      "S3 sent " + target.size() + " of the " + length
                          + " bytes of the requested range"));
              return;
            }
            done.complete(target);
          }
        });
  }

  @Override
  public void exceptionOccurred(Throwable error) {
    CompletableFuture<ChunkedBuffer> done = result;
    if (done != null) {
      done.completeExceptionally(error);
    }
  }
}
