package dev.bytestreams3.service.bytestream;

import dev.bytestreams3.storage.MemoryBudget;
import java.util.concurrent.CompletableFuture;

/**
 * Bounds the memory of first {@code WriteRequest}s. A {@code Write} learns its resource only from
 * its first message, and holds that message while the store checks whether the blob exists and
 * opens the upload; later messages are asked for only once the store has room for them. So first
 * messages are the one thing a stream holds outside the store's budget, and this is their bound:
 * a call reserves the largest message it could receive before asking for its first, and keeps
 * only the message's real size once it arrives, until the store has taken it.
 *
 * <p>It is a budget of its own, not a share of the store's: a call holding a first message waits
 * for the store's budget, so taking both from one pool could let first messages starve the part
 * buffers they wait for.
 */
public final class OpeningMessages {

  private final MemoryBudget budget;
  private final long maxMessageBytes;

  /**
   * @param capacityBytes bytes first messages may hold together
   * @param maxMessageBytes the largest message the server accepts
   */
  public OpeningMessages(long capacityBytes, long maxMessageBytes) {
    if (maxMessageBytes <= 0) {
      throw new IllegalArgumentException("maxMessageBytes: " + maxMessageBytes + " (expected: > 0)");
    }
    // Room for at least one message of the largest size, however small the share.
    this.budget = new MemoryBudget(Math.max(capacityBytes, maxMessageBytes));
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Room for one first message of the largest size, granted in order of asking. */
  CompletableFuture<MemoryBudget.Reservation> reserve() {
    return budget.reserve(maxMessageBytes);
  }

  /** Bytes held by first messages now. */
  public long usedBytes() {
    return budget.usedBytes();
  }
}
