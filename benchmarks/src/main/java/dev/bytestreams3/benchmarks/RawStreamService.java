package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor of the server-overhead scenario: the ByteStream methods with no store behind them.
 * Writes count the bytes and drop them, or keep them until the next write where asked to; reads
 * stream one array in 1 MiB messages while the client is ready. What our server costs on top of
 * this is its own work.
 */
final class RawStreamService extends ByteStreamGrpc.ByteStreamImplBase {

  private static final int CHUNK = 1 << 20;

  private final byte[] content;
  private final boolean keep;

  /** The last write's messages' bytes, when {@code keep}; a store in the heap keeps as much. */
  private volatile List<ByteString> kept = List.of();

  RawStreamService(byte[] content, boolean keep) {
    this.content = content;
    this.keep = keep;
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
    return new StreamObserver<>() {
      long received;
      final List<ByteString> bytes = new ArrayList<>();

      @Override
      public void onNext(WriteRequest r) {
        received += r.getData().size();
        if (keep) {
          bytes.add(r.getData());
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        kept = bytes;
        response.onNext(WriteResponse.newBuilder().setCommittedSize(received).build());
        response.onCompleted();
      }
    };
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
    ServerCallStreamObserver<ReadResponse> call = (ServerCallStreamObserver<ReadResponse>) response;
    int[] offset = {0};
    boolean[] done = {false};
    call.setOnCancelHandler(() -> done[0] = true);
    call.setOnReadyHandler(
        () -> {
          synchronized (offset) {
            while (call.isReady() && !done[0]) {
              int n = Math.min(CHUNK, content.length - offset[0]);
              call.onNext(
                  ReadResponse.newBuilder()
                      .setData(UnsafeByteOperations.unsafeWrap(content, offset[0], n))
                      .build());
              offset[0] += n;
              if (offset[0] == content.length) {
                done[0] = true;
                call.onCompleted();
              }
            }
          }
        });
  }
}
