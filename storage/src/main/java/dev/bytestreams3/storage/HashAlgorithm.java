package dev.bytestreams3.storage;

import java.util.function.Function;
import java.util.function.Supplier;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.MD5Digest;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;

/**
 * The hash functions whose state Bouncy Castle can encode, so that a verified upload can be
 * resumed in another process from the state saved with its committed bytes. SHA-256, the
 * default, is {@link Sha256}, which runs faster where the JDK allows.
 */
public enum HashAlgorithm implements HashFunction {
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
    return new BouncyCastleHasher(fresh.get());
  }

  @Override
  public ContentHasher restore(byte[] state) {
    try {
      return new BouncyCastleHasher(restored.apply(state));
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
}
