package dev.bytestreams3.service.cas;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.LifecycleCounters;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The store as the services see it: every read, HEAD and batch read that finds a blob missing
 * drops it from {@link BlobPresence} at once, so that no later existence check answers "present"
 * from memory; every blob served, and every blob found present by a HEAD, is touched ({@link
 * BlobStore#touch}) so that a store with an expiry rule keeps what is in use. The touch of a blob
 * being served runs beside the serving and does not delay it.
 */
public final class PresenceTrackingStore implements BlobStore {

  private final BlobStore inner;
  private final BlobPresence presence;

  public PresenceTrackingStore(BlobStore inner, BlobPresence presence) {
    this.inner = requireNonNull(inner, "inner");
    this.presence = requireNonNull(presence, "presence");
  }

  private <T> CompletableFuture<T> watched(BlobKey key, CompletableFuture<T> read) {
    return read.whenComplete(
        (v, err) -> {
          if (err != null) {
            if (StorageException.from(err).reason() == StorageException.Reason.NOT_FOUND) {
              presence.forget(key);
            }
          } else {
            // Nothing waits for it: a touch that fails leaves the next existence check to tell.
            inner.touch(key);
          }
        });
  }

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    return inner
        .size(key)
        .whenComplete(
            (s, err) -> {
              if (s != null && s.isEmpty()) {
                presence.forget(key);
              } else if (s != null) {
                inner.touch(key);
              }
            });
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    return inner.findExisting(keys);
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    return inner.queryUpload(spec);
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    return inner.openUpload(spec);
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    return watched(key, inner.openReader(key, offset, limit));
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    return inner.put(key, data);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    return watched(key, inner.get(key, maxBytes));
  }

  @Override
  public CompletableFuture<Void> touch(BlobKey key) {
    return inner.touch(key);
  }

  @Override
  public void addEvictionListener(Consumer<BlobKey> listener) {
    inner.addEvictionListener(listener);
  }

  @Override
  public LifecycleCounters lifecycle() {
    return inner.lifecycle();
  }

  @Override
  public void close() {
    inner.close();
  }
}
