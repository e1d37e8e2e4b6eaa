package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.ContentVerifier;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Hashes one upload's bytes in order: each part on the store's hash threads after the part before
 * it, so the thread that receives the bytes only copies them. The verifier is touched only by the
 * step at the end of the chain, so never by two threads at once, and never after {@link #verify}.
 */
final class PartHasher {

  /** At most this much left to hash when finishing is hashed on the finishing thread. */
  private static final int HASH_IN_PLACE_BYTES = ChunkedBuffer.CHUNK_BYTES;

  private final ContentVerifier verifier;
  private final Executor threads;
  private final boolean saveStates;

  // Guarded by this.
  private CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);

  /** Hashes into {@code verifier} on {@code threads}; {@code saveStates}: hand on the state after each part. */
  PartHasher(ContentVerifier verifier, Executor threads, boolean saveStates) {
    this.verifier = verifier;
    this.threads = threads;
    this.saveStates = saveStates;
  }

  /**
   * Hashes a full part after the parts before it, then gives {@code hashed} the hash state after
   * it (null when none is saved). Skips both when {@code skip} says so by then.
   */
  synchronized CompletableFuture<Void> part(
      ByteBuffer[] chunks, BooleanSupplier skip, Consumer<byte[]> hashed) {
    chain =
        chain.thenRunAsync(
            () -> {
              if (skip.getAsBoolean()) {
                return;
              }
              hash(chunks);
              hashed.accept(saveStates ? verifier.saveState().orElseThrow() : null);
            },
            threads);
    return chain;
  }

  /** Hashes {@code chunks} ({@code size} bytes), the rest of the upload, after every part before it. */
  synchronized CompletableFuture<Void> tail(ByteBuffer[] chunks, int size) {
    if (chunks.length == 0) {
      return chain;
    }
    if (chain.isDone() && !chain.isCompletedExceptionally() && size <= HASH_IN_PLACE_BYTES) {
      hash(chunks);
      return chain;
    }
    chain = chain.thenRunAsync(() -> hash(chunks), threads);
    return chain;
  }

  /** Completes when every hash asked for so far has ended. */
  synchronized CompletableFuture<Void> settled() {
    return chain;
  }

  /** Checks a finished upload; only once {@link #tail}'s future completed. */
  void verify(long totalSize) {
    verifier.verify(totalSize);
  }

  private void hash(ByteBuffer[] chunks) {
    for (ByteBuffer c : chunks) {
      verifier.update(c);
    }
  }
}
