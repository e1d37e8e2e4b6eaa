package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Makes one verified upload's blob visible, with one PutObject or one CompleteMultipartUpload.
 * An upload that may not replace a blob is checked with a HEAD first and, where the store honours
 * it, published with {@code If-None-Match: *}, so of two writers that both found the key free only
 * one publishes; the other fails with {@code ALREADY_EXISTS}. Complete names the parts by the
 * ETags their writer recorded, so S3 refuses it ({@code CONFLICT}) when a part was replaced.
 */
final class UploadPublisher {

  private final S3BlobStore store;
  private final UploadSpec spec;
  private final String objectKey;

  UploadPublisher(S3BlobStore store, UploadSpec spec, String objectKey) {
    this.store = store;
    this.spec = spec;
    this.objectKey = objectKey;
  }

  /** Fails with {@code ALREADY_EXISTS} when the upload may not replace the blob there. */
  CompletableFuture<Void> allowed() {
    if (spec.overwrite()) {
      return CompletableFuture.completedFuture(null);
    }
    return store
        .size(spec.key())
        .thenAccept(
            s -> {
              if (s.isPresent()) {
                throw UploadOpener.alreadyExists(spec);
              }
            });
  }

  /** Publishes {@code body} as the whole blob. */
  CompletableFuture<Void> put(ByteBuffer[] body) {
    return noReplace().thenCompose(noReplace -> store.puts().put(objectKey, noReplace, body));
  }

  /** Publishes the multipart upload {@code uploadId} of {@code parts}. */
  CompletableFuture<Void> complete(String uploadId, List<CompletedPart> parts) {
    return noReplace()
        .thenCompose(
            noReplace ->
                store.call(
                    "CompleteMultipartUpload",
                    objectKey,
                    () ->
                        store
                            .client()
                            .completeMultipartUpload(
                                r -> {
                                  r.bucket(store.bucket())
                                      .key(objectKey)
                                      .uploadId(uploadId)
                                      .multipartUpload(m -> m.parts(parts));
                                  if (noReplace) {
                                    r.ifNoneMatch("*");
                                  }
                                })))
        .thenApply(r -> null);
  }

  /** Whether the publishing request carries {@code If-None-Match: *}. */
  private CompletableFuture<Boolean> noReplace() {
    if (spec.overwrite()) {
      return CompletableFuture.completedFuture(false);
    }
    return store.records().conditions().thenApply(ConditionalWrites::ifNoneMatch);
  }
}
