package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.EncodableDigest;
import org.bouncycastle.util.Memoable;

/** A {@link ContentHasher} over a Bouncy Castle digest that can encode its state. */
final class BouncyCastleHasher implements ContentHasher {

  private final Digest digest;
  private final DigestInput input;

  /** Hashes with {@code digest}, which must be {@link EncodableDigest} and {@link Memoable}. */
  BouncyCastleHasher(Digest digest) {
    if (!(digest instanceof EncodableDigest) || !(digest instanceof Memoable)) {
      throw new IllegalArgumentException(
          "digest: " + digest.getAlgorithmName() + " (expected: encodable and memoable)");
    }
    this.digest = digest;
    this.input = new DigestInput(digest);
  }

  @Override
  public void update(ByteBuffer data) {
    input.update(data);
  }

  @Override
  public byte[] exportState() {
    return ((EncodableDigest) digest).getEncodedState();
  }

  @Override
  public byte[] digest() {
    Digest copy = (Digest) ((Memoable) digest).copy();
    byte[] out = new byte[copy.getDigestSize()];
    copy.doFinal(out, 0);
    return out;
  }
}
