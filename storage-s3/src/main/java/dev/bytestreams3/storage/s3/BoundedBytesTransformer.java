package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Collects the body of a whole-object GET into one buffer, refusing an object larger than
 * {@code maxBytes} from its {@code Content-Length} before any byte of it is buffered (the body is
 * then cancelled, which drops the connection rather than drain it), and stopping at
 * {@code maxBytes} should a body run past what its length announced.
 */
final class BoundedBytesTransformer
    implements AsyncResponseTransformer<GetObjectResponse, ByteBuffer> {

  private final String what;
  private final long maxBytes;
  private volatile CompletableFuture<ByteBuffer> result;
  private volatile long contentLength;
  private volatile StorageException refusal;

  BoundedBytesTransformer(String what, long maxBytes) {
    this.what = what;
    this.maxBytes = maxBytes;
  }

  @Override
  public CompletableFuture<ByteBuffer> prepare() {
    // Called again on every retry: start over.
    result = new CompletableFuture<>();
    contentLength = -1;
    return result;
  }

  @Override
  public void onResponse(GetObjectResponse response) {
    Long length = response.contentLength();
    contentLength = length == null ? -1 : length;
    if (contentLength > maxBytes) {
      result.completeExceptionally(tooLarge(contentLength + " bytes"));
    }
  }

  private StorageException tooLarge(String size) {
    StorageException e =
        new StorageException(
            Reason.TOO_LARGE, what + " is " + size + " (expected: <= " + maxBytes + ")");
    refusal = e;
    return e;
  }

  /**
   * Why this transformer refused the object, if it did. The SDK reports the refusal wrapped as a
   * client failure, which alone would read as a store outage.
   */
  StorageException refusal() {
    return refusal;
  }

  @Override
  public void onStream(SdkPublisher<ByteBuffer> publisher) {
    CompletableFuture<ByteBuffer> done = result;
    long announced = contentLength;
    if (done.isDone()) {
      // Refused from its length: take none of the body.
      publisher.subscribe(
          new Subscriber<ByteBuffer>() {
            @Override
            public void onSubscribe(Subscription s) {
              s.cancel();
            }

            @Override
            public void onNext(ByteBuffer b) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
          });
      return;
    }
    publisher.subscribe(
        new Subscriber<ByteBuffer>() {
          private Subscription subscription;
          // The announced length is at most maxBytes here (a longer one was refused above).
          private ByteBuffer target =
              ByteBuffer.allocate((int) (announced >= 0 ? announced : Math.min(maxBytes, 64 * 1024)));

          @Override
          public void onSubscribe(Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
          }

          @Override
          public void onNext(ByteBuffer b) {
            if (done.isDone()) {
              return;
            }
            if (b.remaining() > target.remaining()) {
              long needed = (long) target.position() + b.remaining();
              if (announced >= 0 || needed > maxBytes) {
                subscription.cancel();
                done.completeExceptionally(
                    announced >= 0
                        ? new StorageException(
                            Reason.INTERNAL,
                            "S3 sent more than the " + announced + " bytes it announced for " + what)
                        : tooLarge("more than " + maxBytes + " bytes"));
                return;
              }
              // No length announced: grow as the bytes come, never past maxBytes.
              int capacity = (int) Math.min(maxBytes, Math.max(needed, 2L * target.capacity()));
              ByteBuffer bigger = ByteBuffer.allocate(capacity);
              bigger.put(target.flip());
              target = bigger;
            }
            target.put(b);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onComplete() {
            if (announced >= 0 && target.hasRemaining()) {
              done.completeExceptionally(
                  new StorageException(
                      Reason.UNAVAILABLE,
                      "S3 sent " + target.position() + " of the " + announced + " bytes of " + what));
              return;
            }
            target.flip();
            // A grown buffer is cut to what arrived, so its array holds the blob and nothing more.
            done.complete(
                target.limit() == target.capacity()
                    ? target
                    : ByteBuffer.wrap(java.util.Arrays.copyOf(target.array(), target.limit())));
          }
        });
  }

  @Override
  public void exceptionOccurred(Throwable error) {
    CompletableFuture<ByteBuffer> done = result;
    if (done != null) {
      done.completeExceptionally(error);
    }
  }
}
