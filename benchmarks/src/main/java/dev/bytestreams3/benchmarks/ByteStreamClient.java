package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.Channel;
import java.nio.ByteBuffer;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;

/**
 * A ByteStream client that streams without blocking: writes send while the transport is ready, and
 * reads check every byte they receive against what was written.
 */
final class ByteStreamClient {

  private final ByteStreamGrpc.ByteStreamStub stub;

  ByteStreamClient(Channel channel) {
    this.stub = ByteStreamGrpc.newStub(channel);
  }

  /** Writes {@code data} to {@code resourceName} in messages of {@code chunkBytes}; completes with the committed size. */
  CompletableFuture<Long> write(String resourceName, byte[] data, int chunkBytes) {
    return write(resourceName, new RepeatedBytes(data, data.length), chunkBytes);
  }

  /** Writes the bytes of {@code source} in messages of {@code chunkBytes}. */
  CompletableFuture<Long> write(String resourceName, RepeatedBytes source, int chunkBytes) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    stub.write(
        new ClientResponseObserver<WriteRequest, WriteResponse>() {
          long offset;
          boolean finished;

          @Override
          public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
            call.setOnReadyHandler(
                () -> {
                  while (call.isReady() && !finished) {
                    int n = (int) Math.min(chunkBytes, source.size() - offset);
                    ByteString bytes = source.slice(offset, n);
                    WriteRequest.Builder r =
                        WriteRequest.newBuilder().setWriteOffset(offset).setData(bytes);
                    if (offset == 0) {
                      r.setResourceName(resourceName);
                    }
                    offset += bytes.size();
                    if (offset == source.size()) {
                      r.setFinishWrite(true);
                      finished = true;
                    }
                    call.onNext(r.build());
                    if (finished) {
                      call.onCompleted();
                    }
                  }
                });
          }

          @Override
          public void onNext(WriteResponse value) {
            done.complete(value.getCommittedSize());
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(-1L);
          }
        });
    return done;
  }

  /** Reads {@code resourceName} whole and fails unless it equals {@code expected}. */
  CompletableFuture<Long> read(String resourceName, byte[] expected) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    stub.read(
        ReadRequest.newBuilder().setResourceName(resourceName).build(),
        new ClientResponseObserver<ReadRequest, ReadResponse>() {
          long received;

          @Override
          public void beforeStart(ClientCallStreamObserver<ReadRequest> call) {}

          @Override
          public void onNext(ReadResponse value) {
            ByteString d = value.getData();
            // ByteBuffer.mismatch is vectorised like the Arrays.mismatch the baseline checks with.
            if (received + d.size() > expected.length
                || d.asReadOnlyByteBuffer()
                        .mismatch(ByteBuffer.wrap(expected, (int) received, d.size()))
                    >= 0) {
              done.completeExceptionally(
                  new IllegalStateException(resourceName + ": wrong bytes at offset " + received));
            }
            received += d.size();
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            if (received != expected.length) {
              done.completeExceptionally(
                  new IllegalStateException(
                      resourceName + ": read " + received + " of " + expected.length + " bytes"));
            }
            done.complete(received);
          }
        });
    return done;
  }
}
