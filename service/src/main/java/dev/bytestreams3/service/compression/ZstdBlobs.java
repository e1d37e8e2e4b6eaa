package dev.bytestreams3.service.compression;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;

/** Whole-blob zstd for the batch calls, whose blobs are bounded by the batch size limit. */
public final class ZstdBlobs {

  private ZstdBlobs() {}

  /** Compresses {@code data} into one frame. */
  public static ByteString compress(ByteBuffer data) {
    try (ZstdEncoder e = new ZstdEncoder()) {
      return e.encode(data).concat(e.finish());
    }
  }

  /**
   * Decompresses {@code data}, which must hold exactly {@code expectedSize} bytes once
   * decompressed; never produces more than {@code expectedSize + 1} bytes.
   *
   * @throws IllegalArgumentException when the data is not valid zstd or has another size
   */
  public static byte[] decompress(ByteString data, long expectedSize) {
    byte[] out = new byte[Math.toIntExact(expectedSize)];
    int filled = 0;
    try (ZstdDecoder d = new ZstdDecoder()) {
      d.feed(data.asReadOnlyByteBuffer());
      ByteBuffer chunk;
      while ((chunk = d.next()) != null) {
        if (filled + chunk.remaining() > out.length) {
          throw new IllegalArgumentException(
              "compressed data holds more than the digest's " + expectedSize + " bytes");
        }
        int n = chunk.remaining();
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
