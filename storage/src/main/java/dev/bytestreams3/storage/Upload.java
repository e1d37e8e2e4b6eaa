package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One open, resumable upload. Calls are made by one writer at a time: each {@link #append} only
 * after the previous one's future completed.
 *
 * <p>The future of {@link #append} is the store's backpressure: it completes when the store can
 * take more, which may be long after the bytes were handed over (parts in flight, memory budget
 * spent). A writer that waits for it never makes the store buffer without bound.
 */
public interface Upload {

  /** Bytes the backend held durably when the upload was opened; the writer continues from here. */
  long committedSize();

  /** Bytes accepted so far, committed or not: {@link #committedSize()} plus every append. */
  long position();

  /**
   * Hands {@code data} to the upload. The store copies what it keeps, so the caller may reuse
   * {@code data} once the returned future completes.
   */
  CompletableFuture<Void> append(ByteBuffer data);

  /**
   * As {@link #append}, for bytes nobody changes afterwards (a protobuf {@code ByteString}'s, say):
   * the store may keep {@code data} itself instead of a copy for as long as it needs it.
   */
  default CompletableFuture<Void> appendUnchanging(ByteBuffer data) {
    return append(data);
  }

  /**
   * Writes what is buffered, verifies size and digest, and publishes the blob atomically. On a
   * verification failure the upload is discarded, nothing is published, and the future fails
   * with {@code SIZE_MISMATCH} or {@code DIGEST_MISMATCH}. Completes with the blob's size.
   */
  CompletableFuture<Long> finish();

  /**
   * Ends this writer without publishing once what it can commit is durable, and completes with the
   * committed size a later writer resumes from. Bytes that cannot be committed on their own (a part
   * below the backend's minimum) are dropped.
   */
  CompletableFuture<Long> suspend();

  /**
   * Stops this writer without publishing or waiting: bytes not yet committed may be dropped (the
   * S3 store drops its part buffer and cancels requests in flight; the local store commits what it
   * already accepted), and committed bytes stay for a later {@link BlobStore#openUpload} to resume.
   */
  void detach();

  /** Discards the upload and everything it committed. */
  CompletableFuture<Void> abort();
}
