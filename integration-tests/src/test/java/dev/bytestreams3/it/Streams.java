package dev.bytestreams3.it;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A ByteStream client over a real socket that honours flow control, as Bazel's does. */
final class Streams implements AutoCloseable {

  private final ManagedChannel channel;
  private final ByteStreamGrpc.ByteStreamStub async;
  private final ByteStreamGrpc.ByteStreamBlockingStub blocking;

  Streams(String target) {
    this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    this.async = ByteStreamGrpc.newStub(channel);
    this.blocking = ByteStreamGrpc.newBlockingStub(channel);
  }

  /** A client sending {@code authorization: Bearer <token>} with every call. */
  Streams(String target, String bearerToken) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + bearerToken);
    this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    this.async =
        ByteStreamGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    this.blocking =
        ByteStreamGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  static String sha256(byte[] data, int from, int to) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(data, from, to - from);
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  static String uploadName(String instance, byte[] data) {
    return instance + "/uploads/" + java.util.UUID.randomUUID() + "/blobs/"
        + sha256(data, 0, data.length) + "/" + data.length;
  }

  static String blobName(String instance, byte[] data) {
    return instance + "/blobs/" + sha256(data, 0, data.length) + "/" + data.length;
  }

  /** One Write in progress. */
  static final class Upload {
    final CompletableFuture<WriteResponse> response = new CompletableFuture<>();
    volatile long sent;
    volatile ClientCallStreamObserver<WriteRequest> requests;
  }

  /**
   * Sends {@code data[from, to)} in {@code chunk}-byte messages, each only when the transport is
   * ready, pausing {@code pauseMillis} between messages; finishes the resource when {@code to} is
   * its end and {@code finish} is set, and half-closes when {@code halfClose} is set (otherwise the
   * stream stays open until the caller cancels it or the server goes away).
   */
  Upload write(
      String name, byte[] data, int from, int to, int chunk, boolean finish, boolean halfClose,
      long pauseMillis) {
    return write(async, name, data, from, to, chunk, finish, halfClose, pauseMillis);
  }

  /** All of {@code data} in one message that finishes {@code name}, given up after {@code millis}. */
  Upload writeWithin(long millis, String name, byte[] data) {
    return write(
        async.withDeadlineAfter(millis, TimeUnit.MILLISECONDS), name, data, 0, data.length,
        data.length, true, true, 0);
  }

  private Upload write(
      ByteStreamGrpc.ByteStreamStub stub, String name, byte[] data, int from, int to, int chunk,
      boolean finish, boolean halfClose, long pauseMillis) {
    Upload u = new Upload();
    Semaphore ready = new Semaphore(0);
    stub.write(
        new ClientResponseObserver<WriteRequest, WriteResponse>() {
          WriteResponse last;

          @Override
          public void beforeStart(ClientCallStreamObserver<WriteRequest> requestStream) {
            u.requests = requestStream;
            requestStream.setOnReadyHandler(ready::release);
          }

          @Override
          public void onNext(WriteResponse value) {
            last = value;
          }

          @Override
          public void onError(Throwable t) {
            u.response.completeExceptionally(t);
            ready.release();
          }

          @Override
          public void onCompleted() {
            u.response.complete(last);
            ready.release();
          }
        });
    Thread sender =
        new Thread(
            () -> {
              try {
                int off = from;
                do {
                  while (!u.requests.isReady() && !u.response.isDone()) {
                    ready.tryAcquire(100, TimeUnit.MILLISECONDS);
                  }
                  if (u.response.isDone()) {
                    return;
                  }
                  int n = Math.min(chunk, to - off);
                  u.requests.onNext(
                      WriteRequest.newBuilder()
                          .setResourceName(off == from ? name : "")
                          .setWriteOffset(off)
                          .setData(ByteString.copyFrom(data, off, n))
                          .setFinishWrite(finish && off + n == data.length)
                          .build());
                  off += n;
                  u.sent = off;
                  if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis);
                  }
                } while (off < to);
                if (halfClose) {
                  u.requests.onCompleted();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (RuntimeException e) {
                u.response.completeExceptionally(e);
              }
            },
            "writer");
    sender.setDaemon(true);
    sender.start();
    return u;
  }

  WriteResponse writeAll(String name, byte[] data) throws Exception {
    return write(name, data, 0, data.length, 16 * 1024, true, true, 0)
        .response
        .get(120, TimeUnit.SECONDS);
  }

  /** Reads the range and returns its bytes. */
  byte[] read(String name, long offset, long limit) {
    Iterator<ReadResponse> it =
        blocking.read(
            ReadRequest.newBuilder()
                .setResourceName(name)
                .setReadOffset(offset)
                .setReadLimit(limit)
                .build());
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while (it.hasNext()) {
      ByteString d = it.next().getData();
      out.write(d.toByteArray(), 0, d.size());
    }
    return out.toByteArray();
  }

  /** Reads the whole resource, consuming one message every {@code pauseMillis}; its SHA-256. */
  String readSha256(String name, long pauseMillis) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    Iterator<ReadResponse> it =
        blocking.read(ReadRequest.newBuilder().setResourceName(name).build());
    while (it.hasNext()) {
      md.update(it.next().getData().asReadOnlyByteBuffer());
      if (pauseMillis > 0) {
        Thread.sleep(pauseMillis);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  long committedSize(String name) {
    return blocking
        .queryWriteStatus(QueryWriteStatusRequest.newBuilder().setResourceName(name).build())
        .getCommittedSize();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(10, TimeUnit.SECONDS);
  }
}
