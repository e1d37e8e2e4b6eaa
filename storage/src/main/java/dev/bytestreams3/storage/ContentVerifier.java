package dev.bytestreams3.storage;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.nio.ByteBuffer;

/**
 * Hashes an upload's bytes as they arrive and checks size and digest before it is published. Its
 * state can be saved with each durable prefix and restored where the upload resumes, so a resumed
 * upload is verified as strictly as one written in a single stream. Not thread-safe.
 */
public final class ContentVerifier {

  private final UploadSpec spec;
  private final ContentHasher hasher;

  private ContentVerifier(UploadSpec spec, ContentHasher hasher) {
    this.spec = spec;
    this.hasher = hasher;
  }

  /** Starts verifying {@code spec}'s content from its first byte. */
  public static ContentVerifier start(UploadSpec spec) {
    return new ContentVerifier(spec, spec.check().map(c -> c.function().newHasher()).orElse(null));
  }

  /**
   * Continues verifying {@code spec}'s content from a state saved by {@link #saveState()}; an
   * empty state is allowed only for unverified uploads.
   */
  public static ContentVerifier resume(UploadSpec spec, Optional<byte[]> state) {
    if (spec.check().isEmpty()) {
      return new ContentVerifier(spec, null);
    }
    byte[] saved =
        state.orElseThrow(() -> new IllegalArgumentException("no saved hash state to resume"));
    return new ContentVerifier(spec, spec.check().get().function().restore(saved));
  }

  /** Adds {@code data}, leaving its position unchanged. */
  public void update(ByteBuffer data) {
    if (hasher != null) {
      hasher.update(data);
    }
  }

  /**
   * Returns the state after every byte so far, or empty for unverified uploads and for hash
   * functions whose state cannot be saved (such an upload cannot resume from committed bytes).
   */
  public Optional<byte[]> saveState() {
    if (hasher == null || !spec.check().get().function().resumable()) {
      return Optional.empty();
    }
    return Optional.of(hasher.exportState());
  }

  /** Whether bytes verified so far can be resumed from in another process. */
  public boolean resumable() {
    return spec.check().map(c -> c.function().resumable()).orElse(true);
  }

  /**
   * Checks a finished upload of {@code totalSize} bytes.
   *
   * @throws StorageException with {@code SIZE_MISMATCH} or {@code DIGEST_MISMATCH}
   */
  public void verify(long totalSize) {
    if (spec.expectedSize() >= 0 && totalSize != spec.expectedSize()) {
      throw new StorageException(
          StorageException.Reason.SIZE_MISMATCH,
          "received " + totalSize + " bytes for " + spec.key() + " (expected: "
              + spec.expectedSize() + ")");
    }
    if (hasher == null) {
      return;
    }
    ContentCheck check = spec.check().get();
    byte[] actual = hasher.digest();
    if (!MessageDigest.isEqual(actual, check.expectedDigest())) {
      throw new StorageException(
          StorageException.Reason.DIGEST_MISMATCH,
          "content hashes to " + check.function().id() + ":" + HexFormat.of().formatHex(actual)
              + " (expected: " + check + ")");
    }
  }
}
