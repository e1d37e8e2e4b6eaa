package dev.bytestreams3.storage.s3;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** The writing of one whole object of the store with a single PutObject. */
final class ObjectPuts {

  private final S3BlobStore store;

  ObjectPuts(S3BlobStore store) {
    this.store = store;
  }

  /**
   * Puts {@code data} at {@code objectKey}; with {@code noReplace}, on a store that honours it,
   * only where no object is ({@code If-None-Match: *}), failing with {@code ALREADY_EXISTS}.
   */
  CompletableFuture<Void> put(String objectKey, boolean noReplace, ByteBuffer... data) {
    long length = 0;
    ByteBuffer[] views = new ByteBuffer[data.length];
    for (int i = 0; i < data.length; i++) {
      views[i] = data[i].duplicate();
      length += views[i].remaining();
    }
    long contentLength = length;
    ReleasableBody content = new ReleasableBody(views);
    CompletableFuture<Void> put =
        store.call(
                "PutObject",
                objectKey,
                () ->
                    store.client().putObject(
                        r -> {
                          r.bucket(store.bucket()).key(objectKey).contentLength(contentLength);
                          if (noReplace) {
                            r.ifNoneMatch("*");
                          }
                        },
                        content))
            .thenApply(r -> null);
    put.whenComplete((v, err) -> content.release());
    return put;
  }
}
