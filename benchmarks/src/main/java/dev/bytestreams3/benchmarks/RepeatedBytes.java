package dev.bytestreams3.benchmarks;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;

/**
 * {@code size} bytes made of one block repeated, so that a large upload needs only the block in
 * memory. Slices never cross a block boundary.
 */
final class RepeatedBytes {

  private final byte[] block;
  private final long size;

  RepeatedBytes(byte[] block, long size) {
    this.block = block;
    this.size = size;
  }

  long size() {
    return size;
  }

  /** Up to {@code max} bytes from {@code offset}, stopping at the end of a block; no copy. */
  ByteString slice(long offset, int max) {
    int at = (int) (offset % block.length);
    int n = (int) Math.min(Math.min(max, block.length - at), size - offset);
    return UnsafeByteOperations.unsafeWrap(block, at, n);
  }
}
