package dev.bytestreams3.storage.tier;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** A complete, verified tier file, pinned against eviction until its one reader is done. */
final class StoredFile implements TierSource {

  private final FileChannel channel;
  private final long size;
  private final Runnable unpin;
  private final AtomicBoolean released = new AtomicBoolean();

  StoredFile(FileChannel channel, long size, Runnable unpin) {
    this.channel = channel;
    this.size = size;
    this.unpin = unpin;
  }

  @Override
  public long blobSize() {
    return size;
  }

  @Override
  public FileChannel channel() {
    return channel;
  }

  @Override
  public long writtenBytes() {
    return size;
  }

  @Override
  public CompletableFuture<Ready> readable(long position) {
    return CompletableFuture.completedFuture(new Ready(size, null));
  }

  @Override
  public void release() {
    if (released.compareAndSet(false, true)) {
      try {
        channel.close();
      } catch (IOException e) {
        // A read-only channel loses nothing when closing fails.
      } finally {
        unpin.run();
      }
    }
  }
}
