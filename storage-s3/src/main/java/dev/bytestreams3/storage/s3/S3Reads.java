package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** The read side of the S3 store: sizes by HEAD, existence checks, bounded GETs and readers. */
final class S3Reads {

  private static final int EXISTENCE_CHECKS_IN_FLIGHT = 16;

  private final S3BlobStore store;

  S3Reads(S3BlobStore store) {
    this.store = store;
  }

  CompletableFuture<OptionalLong> size(BlobKey key) {
    String k;
    try {
      k = store.keys().object(key);
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    return sizeOf(k);
  }

  /** The size of the object at {@code objectKey}, empty when there is none. */
  CompletableFuture<OptionalLong> sizeOf(String objectKey) {
    return store
        .client()
        .headObject(r -> r.bucket(store.bucket()).key(objectKey))
        .handle(
            (r, err) -> {
              if (err == null) {
                return OptionalLong.of(r.contentLength());
              }
              if (S3Errors.isNotFound(err)) {
                return OptionalLong.empty();
              }
              throw S3Errors.map(err, "HEAD", store.bucket(), objectKey);
            });
  }

  CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    Permits permits = new Permits(EXISTENCE_CHECKS_IN_FLIGHT);
    List<BlobKey> all = List.copyOf(keys);
    List<CompletableFuture<OptionalLong>> sizes = new ArrayList<>();
    for (BlobKey k : all) {
      sizes.add(
          permits.acquire().thenCompose(v -> size(k)).whenComplete((s, err) -> permits.release()));
    }
    return CompletableFuture.allOf(sizes.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              Set<BlobKey> found = new LinkedHashSet<>();
              for (int i = 0; i < all.size(); i++) {
                if (sizes.get(i).join().isPresent()) {
                  found.add(all.get(i));
                }
              }
              return found;
            });
  }

  /**
   * Opens a reader pinned to the object the first HEAD finds: every ranged GET carries that
   * HEAD's ETag in {@code If-Match}, so an object replaced during the read ends it with {@link
   * Reason#CONFLICT} instead of handing out bytes of two objects.
   */
  CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    String objectKey;
    try {
      objectKey = store.keys().object(key);
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    S3StoreConfig config = store.config();
    return store
        .client()
        .headObject(r -> r.bucket(store.bucket()).key(objectKey))
        .handle(
            (head, err) -> {
              if (err != null) {
                if (S3Errors.isNotFound(err)) {
                  throw new StorageException(Reason.NOT_FOUND, key + " not found");
                }
                throw S3Errors.map(err, "HEAD", store.bucket(), objectKey);
              }
              long size = head.contentLength();
              if (offset < 0 || offset > size) {
                throw new StorageException(
                    Reason.OUT_OF_RANGE,
                    "offset " + offset + " is outside " + key + " of " + size + " bytes");
              }
              // Compared as a remainder, so that a limit near Long.MAX_VALUE cannot overflow the end.
              long end = limit <= 0 || limit > size - offset ? size : offset + limit;
              return new S3BlobReader(
                  store, objectKey, head.eTag(), size, offset, end,
                  config.readSegmentBytes(), config.maxSegmentsInFlight());
            });
  }

  /**
   * GETs {@code length} bytes of {@code objectKey} from {@code start}, only from the object whose
   * ETag is {@code eTag} when it is not null.
   */
  CompletableFuture<ChunkedBuffer> getRange(String objectKey, String eTag, long start, int length) {
    return store.call(
        "GET range of",
        objectKey,
        () ->
            store.client().getObject(
                r -> r.bucket(store.bucket()).key(objectKey).ifMatch(eTag)
                    .range("bytes=" + start + "-" + (start + length - 1)),
                new SegmentTransformer(length)));
  }

  /** The whole blob in one buffer, refused when it is larger than {@code maxBytes}. */
  CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    String objectKey;
    try {
      objectKey = store.keys().object(key);
    } catch (StorageException e) {
      return CompletableFuture.failedFuture(e);
    }
    BoundedBytesTransformer body =
        new BoundedBytesTransformer(
            key.toString(), Math.min(maxBytes, BlobStore.MAX_GET_BYTES));
    return store
        .call(
            "GET",
            objectKey,
            () -> store.client().getObject(r -> r.bucket(store.bucket()).key(objectKey), body))
        .handle(
            (data, err) -> {
              if (err != null) {
                StorageException refused = body.refusal();
                throw refused != null ? refused : StorageException.from(err);
              }
              return data;
            });
  }
}
