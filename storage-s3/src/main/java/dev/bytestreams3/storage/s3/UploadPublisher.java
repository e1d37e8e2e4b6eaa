package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Makes one verified upload's blob visible, with one PutObject or one CompleteMultipartUpload.
 * An upload that may not replace a blob is checked with a HEAD first and, where the store honours
 * it, published with {@code If-None-Match: *}, so of two writers that both found the key free only
 * one publishes; the other fails with {@code ALREADY_EXISTS}. Complete names the parts by the
 * ETags (and SHA-256 checksums, where S3 answered them) their writer recorded, so S3 refuses it
 * ({@code CONFLICT}) when a part was replaced. A
 * Complete whose response was lost is retried by the SDK and then finds the upload gone ({@code
 * NoSuchUpload}), its parts gone ({@code InvalidPart}) or, with {@code If-None-Match: *}, the key
 * taken: the upload counts as published when the key holds its object.
 */
final class UploadPublisher {

  private static final Logger log = LoggerFactory.getLogger(UploadPublisher.class);

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

  /** Publishes the multipart upload {@code uploadId} of {@code parts}, {@code size} bytes. */
  CompletableFuture<Void> complete(String uploadId, List<CompletedPart> parts, long size) {
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
        .<Void>thenApply(r -> null)
        .exceptionallyCompose(
            err -> {
              if (!S3Errors.isNoSuchUpload(err)
                  && !S3Errors.isInvalidPart(err)
                  && !S3Errors.isPreconditionFailed(err)) {
                return CompletableFuture.failedFuture(err);
              }
              return holdsThisUpload(parts, size)
                  .thenApply(
                      ours -> {
                        if (!ours) {
                          throw StorageException.from(err);
                        }
                        log.info(
                            "CompleteMultipartUpload of s3://{}/{} answered {} after a retry, and"
                                + " the key holds this upload's object: it was published",
                            store.bucket(), objectKey, StorageException.from(err).getMessage());
                        return null;
                      });
            });
  }

  /**
   * Whether the object at the key is the one the Complete of {@code parts} made: for a verified
   * upload, any object of its {@code size} (its key names its content); otherwise the object whose
   * ETag is the multipart ETag of the parts' ETags, where those are MD5s (not under SSE-KMS).
   */
  private CompletableFuture<Boolean> holdsThisUpload(List<CompletedPart> parts, long size) {
    return store.client()
        .headObject(r -> r.bucket(store.bucket()).key(objectKey))
        .handle(
            (head, err) -> {
              if (err == null) {
                return Optional.of(head);
              }
              if (S3Errors.isNotFound(err)) {
                return Optional.<HeadObjectResponse>empty();
              }
              throw S3Errors.map(err, "HEAD", store.bucket(), objectKey);
            })
        .thenApply(
            head -> {
              if (head.isEmpty() || head.get().contentLength() != size) {
                return false;
              }
              if (spec.verified()) {
                return true;
              }
              Optional<String> expected = multipartETag(parts);
              return expected.isPresent()
                  && UploadRecord.sameETag(head.get().eTag(), expected.get());
            });
  }

  /**
   * The ETag S3 gives the object completed from {@code parts}: the MD5 of their MD5s, a dash and
   * their number; empty when a part's ETag is not an MD5.
   */
  static Optional<String> multipartETag(List<CompletedPart> parts) {
    MessageDigest md5;
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has MD5", e);
    }
    for (CompletedPart p : parts) {
      String hex = UploadRecord.unquoted(p.eTag());
      if (!hex.matches("[0-9a-fA-F]{32}")) {
        return Optional.empty();
      }
      md5.update(HexFormat.of().parseHex(hex));
    }
    return Optional.of(HexFormat.of().formatHex(md5.digest()) + "-" + parts.size());
  }

  /** Whether the publishing request carries {@code If-None-Match: *}. */
  private CompletableFuture<Boolean> noReplace() {
    if (spec.overwrite()) {
      return CompletableFuture.completedFuture(false);
    }
    return store.records().conditions().thenApply(ConditionalWrites::ifNoneMatch);
  }
}
