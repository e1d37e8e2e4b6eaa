package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/** Reads a file chunk by chunk, each chunk only when asked for. */
final class LocalBlobReader implements BlobReader {

  private static final int CHUNK_BYTES = 256 * 1024;

  private final LocalBlobStore store;
  private final FileChannel channel;
  private final long blobSize;
  private final long end;
  private long position;

  LocalBlobReader(LocalBlobStore store, FileChannel channel, long blobSize, long start, long end) {
    this.store = store;
    this.channel = channel;
    this.blobSize = blobSize;
    this.position = start;
    this.end = end;
  }

  @Override
  public long blobSize() {
    return blobSize;
  }

  @Override
  public CompletableFuture<ByteBuffer> next() {
    return store.onIo(
        "read",
        () -> {
          synchronized (this) {
            if (position >= end || !channel.isOpen()) {
              return null;
            }
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, end - position));
            while (chunk.hasRemaining()) {
              int n = channel.read(chunk, position + chunk.position());
              if (n < 0) {
                throw new IOException("file ended early at " + (position + chunk.position()));
              }
            }
            position += chunk.limit();
            return chunk.flip();
          }
        });
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a read-only channel loses nothing.
    }
  }
}
