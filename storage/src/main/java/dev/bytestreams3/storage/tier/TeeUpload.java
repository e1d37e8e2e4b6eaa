package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.Upload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * An upload to the slow store whose bytes are also written, as they pass, to a temporary tier
 * file, published in the tier only after the slow store has verified and published the blob. The
 * copy never fails the upload: when the disk fails, the copy is dropped and the upload goes on.
 * Each append completes once both the slow store and the disk have taken its bytes, so the caller
 * may reuse them then, as {@link Upload} allows. The copy is written as a fill's is ({@link
 * FillWriter}: with direct I/O where the file system allows it).
 */
final class TeeUpload implements Upload {

  private final Upload inner;
  private final BlobKey key;
  private final TierFiles files;
  private final Executor io;
  private final Path temp;
  private final AlignedBuffers buffers;
  // Touched by one writer at a time, on the I/O threads, each write after the last one.
  private FileChannel channel;
  private FillWriter writer;
  private long copied;
  private volatile boolean broken;

  /** {@code buffers}: for direct I/O; null to write through the page cache. */
  TeeUpload(Upload inner, BlobKey key, TierFiles files, Executor io, AlignedBuffers buffers) {
    this.inner = inner;
    this.key = key;
    this.files = files;
    this.io = io;
    this.buffers = buffers;
    this.temp = files.newTemp();
  }

  @Override
  public long committedSize() {
    return inner.committedSize();
  }

  @Override
  public long position() {
    return inner.position();
  }

  @Override
  public CompletableFuture<Void> append(ByteBuffer data) {
    return teed(data, inner::append);
  }

  @Override
  public CompletableFuture<Void> appendUnchanging(ByteBuffer data) {
    return teed(data, inner::appendUnchanging);
  }

  private CompletableFuture<Void> teed(
      ByteBuffer data, Function<ByteBuffer, CompletableFuture<Void>> send) {
    if (broken) {
      return send.apply(data);
    }
    ByteBuffer copy = data.duplicate();
    CompletableFuture<Void> written = CompletableFuture.runAsync(() -> write(copy), io);
    CompletableFuture<Void> sent = send.apply(data);
    return sent.thenCombine(written, (a, b) -> null);
  }

  private void write(ByteBuffer data) {
    if (broken) {
      return;
    }
    try {
      if (channel == null) {
        open();
      }
      writer.append(data);
      copied += data.remaining();
    } catch (IOException | RuntimeException e) {
      drop();
    }
  }

  @Override
  public CompletableFuture<Long> finish() {
    return inner
        .finish()
        .thenCompose(
            size ->
                CompletableFuture.supplyAsync(
                    () -> {
                      publish(size);
                      return size;
                    },
                    io))
        .whenComplete(
            (size, err) -> {
              if (err != null) {
                io.execute(this::drop);
              }
            });
  }

  /** Publishes the copy when it holds every byte of the published blob. */
  private void publish(long size) {
    if (broken || channel == null && size > 0) {
      drop();
      return;
    }
    try {
      if (channel == null) {
        open();
      }
      writer.finish();
      writer.close();
      channel.close();
      if (copied != size) {
        drop();
        return;
      }
      files.publish(temp, key, false);
    } catch (IOException | RuntimeException e) {
      drop();
    }
  }

  private void open() throws IOException {
    channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    writer = FillWriter.open(temp, channel, buffers);
  }

  /** Forgets the copy; the upload goes on without it. */
  private void drop() {
    broken = true;
    try {
      if (writer != null) {
        writer.close();
      }
      if (channel != null) {
        channel.close();
      }
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      // The next start empties the temporary folder.
    }
  }

  @Override
  public CompletableFuture<Long> suspend() {
    return inner.suspend().whenCompleteAsync((n, err) -> drop(), io);
  }

  @Override
  public void detach() {
    inner.detach();
    io.execute(this::drop);
  }

  @Override
  public CompletableFuture<Void> abort() {
    return inner.abort().whenCompleteAsync((n, err) -> drop(), io);
  }
}
