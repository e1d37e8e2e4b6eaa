package dev.bytestreams3.service.http;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The store as calls see it during an outage: once the readiness lookups have found the store
 * unreachable twice in a row and no request through here has had an answer for two lookup
 * timeouts, every new request to it fails at once with {@link StorageException.Reason#UNAVAILABLE}
 * naming the outage, until a lookup answers again; a client then learns within the lookup's
 * timeout that it should retry, instead of after a black-holed request's timeouts and retries.
 * Requests already under way, and uploads already open, keep their own timeouts and retries.
 * The first refusal and the store's return are each logged once.
 *
 * <p>Answers to requests count as well as lookups: a store that is busy (its connections all in
 * use, so that a lookup waits its turn) but answers is not out, and its calls are not refused.
 */
public final class StoreOutageGate extends ForwardingStore {

  private final StoreReadiness readiness;
  private final EventLog events;
  private boolean refusing;

  /** When a request through here last had an answer from the store, in {@link System#nanoTime()}. */
  private final java.util.concurrent.atomic.AtomicLong answeredNanos =
      new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

  public StoreOutageGate(BlobStore inner, StoreReadiness readiness, EventLog events) {
    super(inner);
    this.readiness = requireNonNull(readiness, "readiness");
    this.events = requireNonNull(events, "events");
  }

  private <T> CompletableFuture<T> gated(Supplier<CompletableFuture<T>> request) {
    long silentNanos = System.nanoTime() - answeredNanos.get();
    if (!readiness.unreachable() || silentNanos < 2 * readiness.timeout().toNanos()) {
      reopened();
      CompletableFuture<T> f = request.get();
      // Watched beside, not in between: cancelling the caller's future still reaches the store.
      f.whenComplete(
          (v, err) -> {
            if (err == null || answered(StorageException.from(err).reason())) {
              answeredNanos.set(System.nanoTime());
            }
          });
      return f;
    }
    refused();
    return CompletableFuture.failedFuture(
        new StorageException(
            StorageException.Reason.UNAVAILABLE,
            "the store did not answer its last two health lookups within "
                + words(readiness.timeout()) + "; calls that need it are refused until it"
                + " answers again, retry later"));
  }

  /** Whether a failure for {@code reason} is an answer from the store rather than its absence. */
  private static boolean answered(StorageException.Reason reason) {
    return reason != StorageException.Reason.UNAVAILABLE
        && reason != StorageException.Reason.CANCELLED;
  }

  private void refused() {
    synchronized (this) {
      if (refusing) {
        return;
      }
      refusing = true;
    }
    events.warn(
        "store-unreachable",
        "message",
        "the store did not answer two health lookups in a row within " + words(readiness.timeout())
            + "; new calls that need it answer UNAVAILABLE at once until it answers again");
  }

  private void reopened() {
    synchronized (this) {
      if (!refusing) {
        return;
      }
      refusing = false;
    }
    events.info("store-reachable", "message", "the store answers again; calls are served");
  }

  /** "4 s", or "300 ms" below whole seconds. */
  private static String words(java.time.Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return gated(() -> inner().size(key));
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return gated(() -> inner().findExisting(keys));
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    return gated(() -> inner().queryUpload(spec));
  }

  @Override
  public CompletableFuture<Map<BlobKey, Long>> sizes(Collection<BlobKey> keys) {
    return gated(() -> inner().sizes(keys));
  }

  /** {@code outage-gated(<inner>)}. */
  @Override
  public String describe() {
    return "outage-gated(" + inner().describe() + ")";
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    return gated(() -> inner().openUpload(spec));
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return gated(() -> inner().openReader(key, offset, limit));
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    return gated(() -> inner().put(key, data));
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    return gated(() -> inner().get(key, maxBytes));
  }

  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    return gated(() -> inner().touch(key));
  }
}
