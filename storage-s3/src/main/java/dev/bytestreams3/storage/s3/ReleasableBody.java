package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.util.Optional;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/**
 * A request body over buffers that lets go of them once its request is over. The AWS SDK's Netty
 * client keeps each pooled connection's last request, body included, until the connection serves
 * another one; a body that still held its buffers would keep a whole part per idle connection
 * alive after its bytes left the memory budget. Until {@link #release()}, every subscription (a
 * retry makes another) sends the same bytes.
 */
final class ReleasableBody implements AsyncRequestBody {

  private final long length;
  private volatile ByteBuffer[] buffers;

  /** A body of the remaining bytes of {@code buffers}, which it reads but never changes. */
  ReleasableBody(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      n += b.remaining();
    }
    this.length = n;
    this.buffers = buffers;
  }

  @Override
  public Optional<Long> contentLength() {
    return Optional.of(length);
  }

  @Override
  public void subscribe(Subscriber<? super ByteBuffer> subscriber) {
    ByteBuffer[] b = buffers;
    if (b != null) {
      AsyncRequestBody.fromRemainingByteBuffersUnsafe(b).subscribe(subscriber);
      return;
    }
    subscriber.onSubscribe(
        new Subscription() {
          @Override
          public void request(long n) {}

          @Override
          public void cancel() {}
        });
    subscriber.onError(
        new IllegalStateException("the body of this request was released after it ended"));
  }

  /** Drops the buffers; call once the request has ended, retries included. */
  void release() {
    buffers = null;
  }
}
