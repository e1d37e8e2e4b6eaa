package dev.bytestreams3.service.compression;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Whole-blob zstd for the batch calls, whose blobs are bounded by the batch size limit. */
public final class ZstdBlobs {

  /** The most bytes one decompressed blob may hold: what one array can. */
  static final long MAX_BYTES = Integer.MAX_VALUE - 16;

  private static final int FIRST_BUFFER_BYTES = 64 * 1024;

  private ZstdBlobs() {}

  /** Compresses {@code data} into one frame. */
  public static ByteString compress(ByteBuffer data) {
    try (ZstdEncoder e = new ZstdEncoder()) {
      return e.encode(data).concat(e.finish());
    }
  }

  /**
   * Decompresses {@code data}, which must hold exactly {@code expectedSize} bytes once
   * decompressed. The output grows with what is decoded, never past {@code expectedSize}: a size
   * the client declares allocates nothing until bytes arrive to fill it, and decoding stops at the
   * first chunk past it.
   *
   * @throws IllegalArgumentException when the data is not valid zstd or has another size
   */
  public static byte[] decompress(ByteString data, long expectedSize) {
    if (expectedSize < 0 || expectedSize > MAX_BYTES) {
      throw new IllegalArgumentException(
          "decompressed size " + expectedSize + " (expected: 0 to " + MAX_BYTES + ")");
    }
    byte[] out = new byte[(int) Math.min(expectedSize, FIRST_BUFFER_BYTES)];
    int filled = 0;
    try (ZstdDecoder d = new ZstdDecoder()) {
      d.feed(data.asReadOnlyByteBuffer());
      ByteBuffer chunk;
      while ((chunk = d.next()) != null) {
        int n = chunk.remaining();
        if (filled + (long) n > expectedSize) {
          throw new IllegalArgumentException(
              "compressed data holds more than the digest's " + expectedSize + " bytes");
        }
        if (filled + n > out.length) {
          long grown = Math.max(filled + (long) n, 2L * out.length);
          out = Arrays.copyOf(out, (int) Math.min(expectedSize, grown));
        }
        chunk.get(out, filled, n);
        filled += n;
      }
      d.checkComplete();
    }
    if (filled != expectedSize) {
      throw new IllegalArgumentException(
          "compressed data holds " + filled + " bytes (expected: " + expectedSize
              + ", the digest's size)");
    }
    return out;
  }
}
