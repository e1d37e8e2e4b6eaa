package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import org.bouncycastle.crypto.digests.Blake3Digest;

/**
 * BLAKE3 with its default 32-byte output, computed by Bouncy Castle. Bouncy Castle cannot export
 * a running BLAKE3 state, so this function is not {@link #resumable()}: an interrupted BLAKE3
 * upload starts again from its first byte.
 */
public final class Blake3 implements HashFunction {

  /** The one instance needed; it holds no state. */
  public static final Blake3 FUNCTION = new Blake3();

  private Blake3() {}

  @Override
  public String id() {
    return "blake3";
  }

  @Override
  public int digestLength() {
    return 32;
  }

  @Override
  public boolean resumable() {
    return false;
  }

  @Override
  public ContentHasher newHasher() {
    return new Hasher();
  }

  @Override
  public ContentHasher restore(byte[] state) {
    throw new IllegalArgumentException("a blake3 state cannot be restored");
  }

  @Override
  public String toString() {
    return id();
  }

  private static final class Hasher implements ContentHasher {
    private final Blake3Digest digest = new Blake3Digest(256);
    private final DigestInput input = new DigestInput(digest);

    @Override
    public void update(ByteBuffer data) {
      input.update(data);
    }

    @Override
    public byte[] exportState() {
      throw new UnsupportedOperationException("a blake3 state cannot be exported");
    }

    @Override
    public byte[] digest() {
      Blake3Digest copy = (Blake3Digest) digest.copy();
      byte[] out = new byte[32];
      copy.doFinal(out, 0);
      return out;
    }
  }
}
