package dev.bytestreams3.storage;

import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * SHA-256, computed by the JDK's implementation (the CPU's SHA instructions, where HotSpot uses
 * them) when {@code java.base} opens {@code sun.security.provider} to this code, and by Bouncy
 * Castle otherwise. Either way a state is saved in Bouncy Castle's {@code SHA256Digest} encoding,
 * so states saved by one restore in the other, and in servers that only had Bouncy Castle.
 */
public final class Sha256 implements HashFunction {

  /** The fastest SHA-256 this JVM allows; it holds no state. */
  public static final Sha256 FUNCTION = new Sha256(JdkSha256.available());

  private final boolean jdk;

  private Sha256(boolean jdk) {
    this.jdk = jdk;
  }

  /** SHA-256 computed by Bouncy Castle, whatever the JVM allows. */
  static Sha256 bouncyCastle() {
    return new Sha256(false);
  }

  /** Which implementation computes this function, and why, for a server's start-up log. */
  public String implementation() {
    if (jdk) {
      return "JDK (sun.security.provider, intrinsic where the CPU has SHA instructions)";
    }
    String why = JdkSha256.unavailableReason();
    return "Bouncy Castle"
        + (why.isEmpty()
            ? ""
            : " (JDK's unusable, run with --add-opens java.base/sun.security.provider=ALL-UNNAMED: "
                + why + ")");
  }

  /** Whether the JDK's implementation computes this function. */
  boolean usesJdk() {
    return jdk;
  }

  @Override
  public String id() {
    return "sha256";
  }

  @Override
  public int digestLength() {
    return 32;
  }

  @Override
  public ContentHasher newHasher() {
    return jdk ? new JdkSha256() : new BouncyCastleHasher(new SHA256Digest());
  }

  @Override
  public ContentHasher restore(byte[] state) {
    Sha256State decoded = Sha256State.decode(state);
    return jdk
        ? JdkSha256.restore(decoded)
        : new BouncyCastleHasher(new SHA256Digest(state));
  }

  @Override
  public String toString() {
    return id();
  }
}
