package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.EncodableDigest;
import org.bouncycastle.crypto.digests.MD5Digest;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.util.Memoable;

/**
 * The hash functions whose state Bouncy Castle can encode, so that a verified upload can be
 * resumed in another process from the state saved with its committed bytes.
 */
public enum HashAlgorithm implements HashFunction {
  SHA256("sha256", 32, SHA256Digest::new, SHA256Digest::new),
  SHA1("sha1", 20, SHA1Digest::new, SHA1Digest::new),
  MD5("md5", 16, MD5Digest::new, MD5Digest::new),
  SHA384("sha384", 48, SHA384Digest::new, SHA384Digest::new),
  SHA512("sha512", 64, SHA512Digest::new, SHA512Digest::new);

  private final String lowerName;
  private final int digestLength;
  private final Supplier<Digest> fresh;
  private final Function<byte[], Digest> restored;

  HashAlgorithm(
      String lowerName, int digestLength, Supplier<Digest> fresh, Function<byte[], Digest> restored) {
    this.lowerName = lowerName;
    this.digestLength = digestLength;
    this.fresh = fresh;
    this.restored = restored;
  }

  @Override
  public int digestLength() {
    return digestLength;
  }

  @Override
  public ContentHasher newHasher() {
    return new Hasher(fresh.get());
  }

  @Override
  public ContentHasher restore(byte[] state) {
    try {
      return new Hasher(restored.apply(state));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a saved " + lowerName + " state", e);
    }
  }

  @Override
  public String id() {
    return lowerName;
  }

  @Override
  public String toString() {
    return lowerName;
  }

  /** Adapts a Bouncy Castle digest. */
  private static final class Hasher implements ContentHasher {
    private final Digest digest;
    private final DigestInput input;

    Hasher(Digest digest) {
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
}
