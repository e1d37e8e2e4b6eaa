package dev.bytestreams3.service.bytestream;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A plain ByteStream client for tests: what a user's client sends and sees. */
public final class ByteStreamClient {

  private final ByteStreamGrpc.ByteStreamBlockingStub blocking;
  private final ByteStreamGrpc.ByteStreamStub async;

  public ByteStreamClient(Channel channel) {
    this.blocking = ByteStreamGrpc.newBlockingStub(channel);
    this.async = ByteStreamGrpc.newStub(channel);
  }

  public static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  public static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** Sends {@code requests} as one Write and returns the answer (or throws its status). */
  public WriteResponse write(List<WriteRequest> requests) throws Exception {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> out =
        async.write(
            new StreamObserver<>() {
              WriteResponse last;

              @Override
              public void onNext(WriteResponse value) {
                last = value;
              }

              @Override
              public void onError(Throwable t) {
                result.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                result.complete(last);
              }
            });
    for (WriteRequest r : requests) {
      out.onNext(r);
    }
    out.onCompleted();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  /** The requests of one Write of {@code data[from..]} in {@code chunk}-byte messages. */
  public static List<WriteRequest> chunks(String name, byte[] data, int from, int chunk, boolean finish) {
    java.util.ArrayList<WriteRequest> list = new java.util.ArrayList<>();
    int off = from;
    do {
      int n = Math.min(chunk, data.length - off);
      boolean last = off + n >= data.length;
      list.add(
          WriteRequest.newBuilder()
              .setResourceName(off == from ? name : "")
              .setWriteOffset(off)
              .setData(ByteString.copyFrom(data, off, n))
              .setFinishWrite(finish && last)
              .build());
      off += n;
    } while (off < data.length);
    return list;
  }

  public WriteResponse writeAll(String name, byte[] data) throws Exception {
    return write(chunks(name, data, 0, 16 * 1024, true));
  }

  public byte[] read(String name, long offset, long limit) {
    try {
      return readOrThrow(name, offset, limit);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private byte[] readOrThrow(String name, long offset, long limit) throws java.io.IOException {
    Iterator<ReadResponse> it =
        blocking.read(
            ReadRequest.newBuilder()
                .setResourceName(name)
                .setReadOffset(offset)
                .setReadLimit(limit)
                .build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (it.hasNext()) {
      it.next().getData().writeTo(out);
    }
    return out.toByteArray();
  }

  public QueryWriteStatusResponse status(String name) {
    return blocking.queryWriteStatus(
        QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
  }
}
