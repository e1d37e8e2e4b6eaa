package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobReader;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The bytes of an array in chunks of {@code chunkBytes}, each ready at once, as a store with all of
 * them read.
 */
final class BytesReader implements BlobReader {
  private final byte[] bytes;
  private final int chunkBytes;
  private int position;

  BytesReader(byte[] bytes, int chunkBytes) {
    this.bytes = bytes;
    this.chunkBytes = chunkBytes;
  }

  @Override
  public long blobSize() {
    return bytes.length;
  }

  /** How many bytes {@link #next()} has handed out. */
  synchronized int handedOut() {
    return position;
  }

  @Override
  public synchronized CompletableFuture<ByteBuffer> next() {
    if (position >= bytes.length) {
      return CompletableFuture.completedFuture(null);
    }
    int n = Math.min(chunkBytes, bytes.length - position);
    ByteBuffer chunk = ByteBuffer.wrap(bytes, position, n).slice();
    position += n;
    return CompletableFuture.completedFuture(chunk);
  }

  @Override
  public void close() {}
}
