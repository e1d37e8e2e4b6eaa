package dev.bytestreams3.storage.tier;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/** A file of the tier that readers take bytes from: complete, or still being filled. */
interface TierSource {

  /** The size of the whole blob. */
  long blobSize();

  /** The file; positional reads only, shared by every reader. */
  FileChannel channel();

  /** How many bytes from the start of the file may be read now, without waiting. */
  long writtenBytes();

  /**
   * Completes once more than {@code position} bytes of the blob have arrived, or the blob has
   * ended; fails when the file will not be completed.
   */
  CompletableFuture<Ready> readable(long position);

  /** Tells the source that one reader is done with it. */
  void release();

  /**
   * Where the bytes at a position are: {@code held} is null when they are in the file, which may
   * be read up to {@code upTo} (no further than the position: the blob has ended there); else
   * {@code held} holds the bytes from the position, arrived and not yet written, up to {@code
   * upTo}.
   */
  record Ready(long upTo, ByteBuffer held) {}
}
