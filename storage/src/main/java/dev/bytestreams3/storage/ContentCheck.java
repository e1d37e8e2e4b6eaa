package dev.bytestreams3.storage;

import static java.util.Objects.requireNonNull;

import java.util.HexFormat;

/**
 * The digest an upload's content must hash to.
 *
 * @param function the hash function
 * @param expectedDigest the digest, {@code function.digestLength()} bytes
 */
public record ContentCheck(HashFunction function, byte[] expectedDigest) {

  public ContentCheck {
    requireNonNull(function, "function");
    requireNonNull(expectedDigest, "expectedDigest");
    if (expectedDigest.length != function.digestLength()) {
      throw new IllegalArgumentException(
          "expectedDigest: " + expectedDigest.length + " bytes (expected: "
              + function.digestLength() + " for " + function.id() + ")");
    }
    expectedDigest = expectedDigest.clone();
  }

  @Override
  public byte[] expectedDigest() {
    return expectedDigest.clone();
  }

  @Override
  public String toString() {
    return function.id() + ":" + HexFormat.of().formatHex(expectedDigest);
  }
}
