package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import org.bouncycastle.crypto.Digest;

/** Feeds a buffer's remaining bytes to a Bouncy Castle digest without moving its position. */
final class DigestInput {

  private final Digest digest;
  private final byte[] scratch = new byte[8192];

  DigestInput(Digest digest) {
    this.digest = digest;
  }

  /** Adds {@code data}'s remaining bytes; heap buffers go in directly, others through a scratch array. */
  void update(ByteBuffer data) {
    if (data.hasArray()) {
      digest.update(data.array(), data.arrayOffset() + data.position(), data.remaining());
      return;
    }
    ByteBuffer d = data.duplicate();
    while (d.hasRemaining()) {
      int n = Math.min(scratch.length, d.remaining());
      d.get(scratch, 0, n);
      digest.update(scratch, 0, n);
    }
  }
}
