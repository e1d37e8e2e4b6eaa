package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Content, specs and appends for tests of local uploads. */
final class TestUploads {

  private TestUploads() {}

  static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** An upload of {@code content} to {@code key} that must hash to its SHA-256. */
  static UploadSpec verified(String key, byte[] content) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
    return new UploadSpec(
        BlobKey.of(key), "u-1", content.length,
        Optional.of(new ContentCheck(Sha256.FUNCTION, digest)), false);
  }

  /** Appends {@code data[from, to)} in {@code chunk}-byte pieces, each after the previous one. */
  static void append(Upload u, byte[] data, int from, int to, int chunk) throws Exception {
    for (int i = from; i < to; i += chunk) {
      await(u.append(ByteBuffer.wrap(data, i, Math.min(chunk, to - i))));
    }
  }
}
