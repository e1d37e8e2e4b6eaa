package dev.bytestreams3.storage.tier;

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
   * Completes with how many bytes from the start of the file may be read once more than {@code
   * position} are there (or the blob has ended); fails when the file will not be completed.
   */
  CompletableFuture<Long> readable(long position);

  /** Tells the source that one reader is done with it. */
  void release();
}
