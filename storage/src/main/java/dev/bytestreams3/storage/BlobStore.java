package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A store of immutable blobs addressed by {@link BlobKey}, written through resumable uploads.
 *
 * <p>The contract every implementation keeps:
 *
 * <ul>
 *   <li>All methods are thread-safe and never block the caller on I/O; results arrive through
 *       futures completed on the store's own threads.
 *   <li>A blob becomes visible only when {@link Upload#finish()} succeeds, and then atomically:
 *       a reader sees all of it or nothing.
 *   <li>The committed size of an upload counts only bytes the backend holds durably. It is
 *       computed from the backend's own record, so any process using the same backend reports the
 *       same number for the same upload.
 *   <li>Failures complete futures exceptionally with a {@link StorageException}.
 * </ul>
 */
public interface BlobStore extends AutoCloseable {

  /** The most bytes {@link #get} returns, whatever the caller allows: what one array can hold. */
  long MAX_GET_BYTES = Integer.MAX_VALUE - 16;

  /** Returns the size of the published blob at {@code key}, or empty when there is none. */
  CompletableFuture<OptionalLong> size(BlobKey key);

  /** Returns those of {@code keys} that hold a published blob. */
  CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys);

  /**
   * Returns the size of each of {@code keys} that holds a published blob, in the keys' first
   * order; keys without one are left out. The default asks {@link #size} once per distinct key, all
   * at once; a store that bounds or caches existence checks answers it its own way.
   */
  default CompletableFuture<Map<BlobKey, Long>> sizes(Collection<BlobKey> keys) {
    List<BlobKey> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
    List<CompletableFuture<OptionalLong>> each = new ArrayList<>(distinct.size());
    for (BlobKey k : distinct) {
      each.add(size(k));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Map<BlobKey, Long> sizes = new LinkedHashMap<>();
              for (int i = 0; i < distinct.size(); i++) {
                OptionalLong s = each.get(i).join();
                if (s.isPresent()) {
                  sizes.put(distinct.get(i), s.getAsLong());
                }
              }
              return sizes;
            });
  }

  /**
   * Reports how far the upload described by {@code spec} has come without opening it: the
   * committed size, or the full size with {@code complete} when the blob is already published.
   */
  CompletableFuture<UploadStatus> queryUpload(UploadSpec spec);

  /**
   * Opens the upload described by {@code spec}, resuming it when the backend already holds parts
   * of it. The returned {@link Upload#committedSize()} is where the caller must continue.
   */
  CompletableFuture<Upload> openUpload(UploadSpec spec);

  /**
   * Opens a reader over {@code [offset, offset + limit)} of the blob at {@code key}; {@code limit}
   * 0 means to the end. Fails with {@link StorageException.Reason#NOT_FOUND} when there is no such
   * blob and {@link StorageException.Reason#OUT_OF_RANGE} when {@code offset} is past its end.
   */
  CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit);

  /** Stores a small blob in one request, replacing any blob at {@code key}. */
  CompletableFuture<Void> put(BlobKey key, ByteBuffer data);

  /**
   * Reads a whole small blob into memory. Fails with {@code NOT_FOUND} when there is none, and
   * with {@link StorageException.Reason#TOO_LARGE} when it holds more than {@code maxBytes}: the
   * size is checked before anything is buffered, so the caller never holds more than it allowed
   * whatever the blob's size. {@code maxBytes} above {@link #MAX_GET_BYTES} is that limit.
   */
  CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes);

  /**
   * Whether the blob at {@code key} is stored with {@code sizeBytes}, asked before an upload of it
   * so that a client need not send bytes the store holds. The default asks {@link #size}. A store
   * that reported the blob absent moments ago may answer {@code false} without asking again: the
   * answer only decides whether the bytes are sent, and storing a content-addressed blob once more
   * is harmless.
   */
  default CompletableFuture<Boolean> holdsBeforeUpload(BlobKey key, long sizeBytes) {
    return size(key).thenApply(s -> s.isPresent() && s.getAsLong() == sizeBytes);
  }

  /**
   * Tells the store that the blob at {@code key} is in use: reported present, served, or named by
   * a served action result. A store whose backend removes blobs by age (an S3 expiry rule) resets
   * the blob's date when it is past the store's refresh threshold; a store with a size limit moves
   * it to the back of its eviction order. Completes once the blob is known to stay at least as
   * long as the store promises (see the store's documentation); fails with {@link
   * StorageException.Reason#NOT_FOUND} when there is no such blob. The default does nothing.
   */
  default CompletableFuture<Void> touch(BlobKey key) {
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Registers {@code listener}, called with each key the store removes on its own (eviction under
   * a size limit), so that whoever remembers the blob as present forgets it. The default store
   * removes nothing on its own.
   */
  default void addEvictionListener(java.util.function.Consumer<BlobKey> listener) {}

  /** What the store has stored, evicted and refreshed; zeros for a store that counts none. */
  default LifecycleCounters lifecycle() {
    return new LifecycleCounters();
  }

  /**
   * One line naming this store and, for a store that wraps another, what it wraps: {@code
   * s3://bucket/prefix}, {@code existence-cached(ttl 1h, 100000 entries, s3://bucket/prefix)}. The
   * default is the class's simple name.
   */
  default String describe() {
    return getClass().getSimpleName();
  }

  /** Releases the store's threads and connections. */
  @Override
  void close();
}
