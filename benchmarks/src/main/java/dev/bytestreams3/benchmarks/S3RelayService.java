package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The floor of the large S3 rows: the ByteStream methods relaying bytes between gRPC and the
 * baseline's SDK client and nothing else, the least a gRPC server in front of S3 must do. A
 * resource name is the object's key and its size, {@code <key>/<size>}, as the SDK needs the size
 * before the first byte. A write takes messages as fast as the client sends them and hands their
 * bytes, as the SDK asks for them, to the SDK's multipart upload of that key; a read makes the
 * baseline's ranged GETs and sends each segment, in order, in 1 MiB messages as soon as it arrived.
 * Neither bounds what waits, and nothing is checked, hashed or recorded.
 */
final class S3RelayService extends ByteStreamGrpc.ByteStreamImplBase {

  private static final int MESSAGE_BYTES = 1 << 20;

  private final S3Baseline sdk;
  private final int segmentBytes;
  private final int segmentsInFlight;

  /**
   * A relay through {@code sdk} whose reads are GETs of {@code segmentBytes}, {@code
   * segmentsInFlight} at once.
   */
  S3RelayService(S3Baseline sdk, int segmentBytes, int segmentsInFlight) {
    this.sdk = sdk;
    this.segmentBytes = segmentBytes;
    this.segmentsInFlight = segmentsInFlight;
  }

  /** The resource name of {@code key}, an object of {@code size} bytes. */
  static String name(String key, long size) {
    return key + "/" + size;
  }

  private static String keyIn(String name) {
    return name.substring(0, name.lastIndexOf('/'));
  }

  private static long sizeIn(String name) {
    return Long.parseLong(name.substring(name.lastIndexOf('/') + 1));
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
    Relay relay = new Relay();
    return new StreamObserver<>() {
      long received;

      @Override
      public void onNext(WriteRequest r) {
        if (received == 0) {
          String name = r.getResourceName();
          sdk.multipartUpload(keyIn(name), sizeIn(name), relay)
              .whenComplete(
                  (v, err) -> {
                    if (err != null) {
                      response.onError(
                          Status.INTERNAL.withDescription(err.toString()).asRuntimeException());
                    } else {
                      response.onNext(
                          WriteResponse.newBuilder().setCommittedSize(received).build());
                      response.onCompleted();
                    }
                  });
        }
        received += r.getData().size();
        relay.deliver(r.getData().asReadOnlyByteBuffer());
      }

      @Override
      public void onError(Throwable t) {
        relay.fail(t);
      }

      @Override
      public void onCompleted() {
        relay.complete();
      }
    };
  }

  /**
   * The incoming messages as the upload's body. Messages arrive as gRPC asks for them by itself,
   * one after each, on the transport thread, and wait here until the SDK asks for them: no bound on
   * what waits, so the relay never holds the client back.
   */
  private static final class Relay implements Publisher<ByteBuffer> {
    // Guarded by this.
    private final ArrayDeque<ByteBuffer> waiting = new ArrayDeque<>();
    private Subscriber<? super ByteBuffer> subscriber;
    private long demand;
    private boolean ended;
    private boolean done;

    @Override
    public synchronized void subscribe(Subscriber<? super ByteBuffer> s) {
      subscriber = s;
      s.onSubscribe(
          new Subscription() {
            @Override
            public void request(long n) {
              synchronized (Relay.this) {
                demand += n;
                flush();
              }
            }

            @Override
            public void cancel() {}
          });
    }

    synchronized void deliver(ByteBuffer b) {
      waiting.add(b);
      flush();
    }

    synchronized void complete() {
      ended = true;
      flush();
    }

    synchronized void fail(Throwable t) {
      if (subscriber != null && !done) {
        done = true;
        subscriber.onError(t);
      }
    }

    /** Passes on waiting buffers while the SDK asks for them, then the end once all are passed. */
    private void flush() {
      if (subscriber == null || done) {
        return;
      }
      while (demand > 0 && !waiting.isEmpty()) {
        demand--;
        subscriber.onNext(waiting.poll());
      }
      if (ended && waiting.isEmpty() && !done) {
        done = true;
        subscriber.onComplete();
      }
    }
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
    String name = request.getResourceName();
    new Download(keyIn(name), sizeIn(name), response).start();
  }

  /** One read: ranged GETs, a fixed number in flight, their segments sent in order. */
  private final class Download {
    private final String key;
    private final long readBytes;
    private final StreamObserver<ReadResponse> response;
    private final Map<Long, byte[]> arrived = new HashMap<>();
    private long nextToSend;
    private long nextToGet;
    private boolean failed;

    Download(String key, long readBytes, StreamObserver<ReadResponse> response) {
      this.key = key;
      this.readBytes = readBytes;
      this.response = response;
    }

    void start() {
      for (int i = 0; i < segmentsInFlight; i++) {
        getNext();
      }
    }

    private void getNext() {
      long from;
      long end;
      synchronized (this) {
        if (nextToGet >= readBytes || failed) {
          return;
        }
        from = nextToGet;
        end = Math.min(readBytes, from + segmentBytes);
        nextToGet = end;
      }
      CompletableFuture<byte[]> got = sdk.getRange(key, from, end - 1);
      got.whenComplete(
          (bytes, err) -> {
            if (err != null) {
              fail(err);
            } else {
              arrived(from, bytes);
              getNext();
            }
          });
    }

    /** Sends every segment that is next in order; sends happen under this lock, so in order. */
    private synchronized void arrived(long from, byte[] bytes) {
      if (failed) {
        return;
      }
      arrived.put(from, bytes);
      byte[] next;
      while ((next = arrived.remove(nextToSend)) != null) {
        for (int at = 0; at < next.length; at += MESSAGE_BYTES) {
          response.onNext(
              ReadResponse.newBuilder()
                  .setData(
                      UnsafeByteOperations.unsafeWrap(
                          next, at, Math.min(MESSAGE_BYTES, next.length - at)))
                  .build());
        }
        nextToSend += next.length;
      }
      if (nextToSend >= readBytes) {
        response.onCompleted();
      }
    }

    private synchronized void fail(Throwable err) {
      if (!failed) {
        failed = true;
        response.onError(Status.INTERNAL.withDescription(err.toString()).asRuntimeException());
      }
    }
  }
}
