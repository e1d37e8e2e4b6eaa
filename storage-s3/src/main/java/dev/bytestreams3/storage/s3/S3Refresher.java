package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.LifecycleCounters;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;

/**
 * Keeps objects in use from the bucket's expiry rule, which removes an object by the age of its
 * LastModified whatever reads it. An object at least {@code threshold} old is copied onto itself
 * (CopyObject with the REPLACE metadata directive, its own metadata and the time of the refresh,
 * since a copy in place must change the metadata; the copy gets a new LastModified). Each key costs at most one HEAD
 * and one CopyObject per threshold on each server: after a look, the key is remembered fresh until
 * its date plus the threshold. At most {@code refreshesInFlight} keys are looked at at once.
 *
 * <p>When {@link #touch} completes, the object's date is younger than the threshold, so it stays
 * for at least the expiry age minus the threshold from then on.
 */
final class S3Refresher {

  /** CopyObject copies at most 5 GiB; a larger object needs a multipart copy. */
  static final long MAX_COPY_BYTES = 5L << 30;

  /** The user metadata (x-amz-meta-refreshed) naming when an object was last refreshed. */
  static final String REFRESHED_METADATA = "refreshed";

  /** Keys remembered fresh; a key forgotten early costs one more HEAD, nothing else. */
  private static final int REMEMBERED_KEYS = 200_000;

  private final S3BlobStore store;
  private final Duration threshold;
  private final Clock clock;
  private final Permits permits;
  private final LifecycleCounters counters;
  private final Map<String, Instant> freshUntil =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
          return size() > REMEMBERED_KEYS;
        }
      };
  private final ConcurrentHashMap<String, CompletableFuture<Void>> running =
      new ConcurrentHashMap<>();

  S3Refresher(S3BlobStore store, LifecycleCounters counters) {
    this.store = store;
    this.threshold = store.config().refreshThreshold();
    this.clock = store.config().clock();
    this.permits = new Permits(store.config().refreshesInFlight());
    this.counters = counters;
  }

  /**
   * Completes once the object at {@code objectKey} is younger than the threshold, copying it onto
   * itself when it is not; fails with {@code NOT_FOUND} when there is no such object.
   */
  CompletableFuture<Void> touch(String objectKey) {
    if (threshold.isZero()) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (freshUntil) {
      Instant until = freshUntil.get(objectKey);
      if (until != null && clock.instant().isBefore(until)) {
        return CompletableFuture.completedFuture(null);
      }
    }
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> other = running.putIfAbsent(objectKey, mine);
    if (other != null) {
      // One look per key at a time; later callers wait for it (their own copy, so that a
      // cancelled caller cannot cancel the look).
      return other.thenApply(v -> v);
    }
    permits
        .acquire()
        .thenCompose(v -> refresh(objectKey))
        .whenComplete(
            (v, err) -> {
              permits.release();
              running.remove(objectKey, mine);
              if (err != null) {
                mine.completeExceptionally(err);
              } else {
                mine.complete(null);
              }
            });
    return mine;
  }

  private CompletableFuture<Void> refresh(String objectKey) {
    return store
        .call(
            "HEAD",
            objectKey,
            () -> store.client().headObject(r -> r.bucket(store.bucket()).key(objectKey)))
        .thenCompose(
            head -> {
              Instant now = clock.instant();
              Instant date = head.lastModified();
              if (Duration.between(date, now).compareTo(threshold) < 0) {
                remember(objectKey, date.plus(threshold));
                return CompletableFuture.completedFuture(null);
              }
              return copyInPlace(objectKey, head)
                  .thenRun(
                      () -> {
                        counters.refreshed(head.contentLength());
                        remember(objectKey, now.plus(threshold));
                      });
            });
  }

  private CompletableFuture<Void> copyInPlace(String objectKey, HeadObjectResponse head) {
    if (head.contentLength() > MAX_COPY_BYTES) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Reason.UNAVAILABLE,
              objectKey + " has " + head.contentLength() + " bytes, more than one CopyObject"
                  + " refreshes (" + MAX_COPY_BYTES + ")"));
    }
    return store
        .call(
            "CopyObject",
            objectKey,
            () ->
                store
                    .client()
                    .copyObject(
                        r -> {
                          r.sourceBucket(store.bucket())
                              .sourceKey(objectKey)
                              .destinationBucket(store.bucket())
                              .destinationKey(objectKey)
                              .metadataDirective(MetadataDirective.REPLACE)
                              .metadata(refreshedMetadata(head))
                              // Copies exactly what the HEAD saw: an object replaced meanwhile
                              // (an action result updated) is fresh already and stays as written.
                              .copySourceIfMatch(head.eTag());
                          if (head.contentType() != null) {
                            r.contentType(head.contentType());
                          }
                        }))
        .handle(
            (r, err) -> {
              if (err == null) {
                return null;
              }
              StorageException e = StorageException.from(err);
              if (e.reason() == Reason.ALREADY_EXISTS) {
                // 412: the object changed since the HEAD, so it was just written.
                return null;
              }
              throw e;
            });
  }

  /**
   * The object's metadata with the time of this refresh: S3 accepts a copy in place with the
   * REPLACE directive and unchanged metadata, but S3Mock refuses one whose metadata is unchanged.
   */
  private Map<String, String> refreshedMetadata(HeadObjectResponse head) {
    Map<String, String> m = new LinkedHashMap<>(head.metadata());
    m.put(REFRESHED_METADATA, clock.instant().toString());
    return m;
  }

  private void remember(String objectKey, Instant until) {
    synchronized (freshUntil) {
      freshUntil.put(objectKey, until);
    }
  }
}
