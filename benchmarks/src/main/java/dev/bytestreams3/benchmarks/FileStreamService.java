package dev.bytestreams3.benchmarks;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The floor of the local-store rows: the ByteStream methods over one file and nothing else, the
 * least a server keeping bytes on a file system must do. A write puts each message's bytes into a
 * new file as they arrive, syncs every {@code syncBytes} and at the end, and renames the file over
 * the last one; a read sends that file in 1 MiB reads while the client is ready. All of it runs on
 * the transport thread, as the bare service's work does.
 */
final class FileStreamService extends ByteStreamGrpc.ByteStreamImplBase {

  private static final int CHUNK = 1 << 20;

  private final Path file;
  private final Path partial;
  private final long syncBytes;

  FileStreamService(Path folder, long syncBytes) {
    this.file = folder.resolve("file-floor");
    this.partial = folder.resolve("file-floor.partial");
    this.syncBytes = syncBytes;
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
    FileChannel out;
    try {
      out =
          FileChannel.open(
              partial,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new StreamObserver<>() {
      long received;
      long synced;

      @Override
      public void onNext(WriteRequest r) {
        try {
          ByteBuffer b = r.getData().asReadOnlyByteBuffer();
          while (b.hasRemaining()) {
            out.write(b);
          }
          received += r.getData().size();
          if (received - synced >= syncBytes) {
            out.force(false);
            synced = received;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public void onError(Throwable t) {
        // Nothing was promised for a failed write.
        closeQuietly(out);
      }

      @Override
      public void onCompleted() {
        try {
          out.force(true);
          out.close();
          Files.move(
              partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
          response.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
          return;
        }
        response.onNext(WriteResponse.newBuilder().setCommittedSize(received).build());
        response.onCompleted();
      }
    };
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
    ServerCallStreamObserver<ReadResponse> call = (ServerCallStreamObserver<ReadResponse>) response;
    FileChannel in;
    try {
      in = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      response.onError(Status.NOT_FOUND.withDescription(e.toString()).asRuntimeException());
      return;
    }
    boolean[] done = {false};
    call.setOnCancelHandler(
        () -> {
          synchronized (done) {
            done[0] = true;
            closeQuietly(in);
          }
        });
    call.setOnReadyHandler(
        () -> {
          synchronized (done) {
            try {
              while (call.isReady() && !done[0]) {
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
                while (chunk.hasRemaining() && in.read(chunk) >= 0) {
                  // Until the chunk is full or the file ends.
                }
                int n = chunk.position();
                if (n > 0) {
                  call.onNext(
                      ReadResponse.newBuilder()
                          .setData(UnsafeByteOperations.unsafeWrap(chunk.flip()))
                          .build());
                }
                if (n < CHUNK) {
                  done[0] = true;
                  in.close();
                  call.onCompleted();
                }
              }
            } catch (IOException e) {
              done[0] = true;
              closeQuietly(in);
              call.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            }
          }
        });
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // Nothing is lost: a read-only channel, or a write that failed and promised nothing.
    }
  }
}
