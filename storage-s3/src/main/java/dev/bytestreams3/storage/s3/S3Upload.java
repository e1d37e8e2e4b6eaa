package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.ContentVerifier;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * One upload written as an S3 multipart upload. Bytes are copied into a part buffer reserved from
 * the memory budget; a full buffer becomes a part sent while the writer goes on, with at most
 * {@code maxPartsInFlight} parts in flight ({@link PartPipeline}). Each full part is hashed on the
 * store's hash threads, one part after another, beside its UploadPart, so the thread that receives
 * the bytes only copies them ({@link PartHasher}). Once a part is both sent and hashed, the {@link
 * UploadLedger} takes its ETag and the hash state after it into the upload record, written at the
 * first part and then every few parts or seconds (and when the writer suspends), so any process
 * can resume after the recorded parts and still verify; a detached upload hashes and records
 * nothing more. A part's buffer and its slot are given
 * back once it is both sent and hashed. {@link UploadPublisher} makes the verified blob visible; a
 * blob that ends before its first part is full is one PutObject.
 */
final class S3Upload implements Upload {

  /** S3's most parts per upload. */
  static final int MAX_PARTS = 10_000;

  private static final long MIB = 1024 * 1024;

  private final S3BlobStore store;
  private final UploadSpec spec;
  private final String objectKey;
  private final long partSize;
  private final long committedAtOpen;
  private final PartHasher hasher;
  private final PartPipeline parts;

  private final UploadLedger ledger;
  private final UploadPublisher publisher;
  /** Whether the S3 upload was started by this writer, not resumed from another's record. */
  private final boolean ownS3Upload;
  /** The record this writer resumed from, as it read it; null for a fresh upload. */
  private final StoredRecord resumedFrom;

  // Guarded by this.
  private int nextPart;
  private long position;
  private ChunkedBuffer buffer;
  private MemoryBudget.Reservation bufferReservation;
  private Throwable failure;
  private boolean closed;
  private boolean detached;

  private S3Upload(
      S3BlobStore store, UploadSpec spec, String objectKey, long partSize, long committed,
      ContentVerifier verifier, StoredRecord resumedFrom, int nextPart, UploadLedger ledger) {
    this.store = store;
    this.resumedFrom = resumedFrom;
    String s3UploadId = resumedFrom == null ? null : resumedFrom.record().s3UploadId();
    this.ledger = ledger;
    this.publisher = new UploadPublisher(store, spec, objectKey);
    this.ownS3Upload = s3UploadId == null;
    this.spec = spec;
    this.objectKey = objectKey;
    this.partSize = partSize;
    this.committedAtOpen = committed;
    this.position = committed;
    this.hasher =
        new PartHasher(
            verifier, store.hashThreads(), spec.check().isPresent() && verifier.resumable());
    this.nextPart = nextPart;
    this.parts =
        new PartPipeline(
            new MultipartRequests(
                store, objectKey, resumedFrom == null || resumedFrom.record().sha256Parts()),
            ledger, store.config().maxPartsInFlight(),
            s3UploadId, this::fail);
  }

  /** S3's largest object: 5 TiB. */
  static final long MAX_OBJECT_BYTES = 5L << 40;

  /** A new upload; nothing is sent to S3 until a part is full or the upload finishes. */
  static S3Upload fresh(S3BlobStore store, UploadSpec spec, String objectKey) {
    checkBufferable(store, spec);
    long partSize = partSizeOf(store, spec);
    UploadLedger ledger =
        new UploadLedger(
            store.records(), store.config(), spec, partSize, UploadOpener.resumable(spec), true,
            Optional.empty(), null,
            new TreeMap<>(), null);
    return new S3Upload(
        store, spec, objectKey, partSize, 0, ContentVerifier.start(spec), null, 1, ledger);
  }

  /** The part size of a new upload: the configured one, raised so the declared size fits. */
  private static long partSizeOf(S3BlobStore store, UploadSpec spec) {
    long partSize = store.config().partSizeBytes();
    if (spec.expectedSize() > 0) {
      long needed = (spec.expectedSize() + MAX_PARTS - 1) / MAX_PARTS;
      partSize = Math.max(partSize, (needed + MIB - 1) / MIB * MIB);
    }
    return partSize;
  }

  /**
   * Refuses, before anything is reserved or sent, an upload whose declared size S3 cannot store or
   * whose parts would be larger than one buffer of the memory budget may be.
   */
  static void checkBufferable(S3BlobStore store, UploadSpec spec) {
    if (spec.expectedSize() > MAX_OBJECT_BYTES) {
      throw new StorageException(
          Reason.INVALID_REQUEST,
          spec.key() + " declares " + spec.expectedSize() + " bytes (expected: <= "
              + MAX_OBJECT_BYTES + ", S3's largest object)");
    }
    long partSize = partSizeOf(store, spec);
    long largest = Math.min(store.budget().maxReservationBytes(), Integer.MAX_VALUE - 8);
    if (!store.budget().admits(partSize) || partSize > largest) {
      throw new StorageException(
          Reason.INVALID_REQUEST,
          spec.key() + " declares " + spec.expectedSize() + " bytes, which need parts of "
              + partSize + " bytes to fit in " + MAX_PARTS + " parts (expected: parts <= "
              + largest + " bytes, the largest buffer this server's memory budget allows; blobs"
              + " up to " + largest / MIB * MIB * MAX_PARTS + " bytes fit)");
    }
  }

  /**
   * Resumes the upload in {@code stored} after the committed parts among {@code parts}: those S3
   * lists with the ETags the record names.
   */
  static S3Upload resumed(
      S3BlobStore store, UploadSpec spec, String objectKey, StoredRecord stored,
      Map<Integer, Part> parts) {
    UploadRecord record = stored.record();
    int n = store.multipart().committedParts(record, parts);
    byte[] state = n == 0 || spec.check().isEmpty() ? null : record.states().get(n);
    ContentVerifier verifier =
        state == null ? ContentVerifier.start(spec) : ContentVerifier.resume(spec, Optional.of(state));
    TreeMap<Integer, CompletedPart> committed = new TreeMap<>();
    for (int i = 1; i <= n; i++) {
      committed.put(
          i,
          CompletedPart.builder()
              .partNumber(i)
              .eTag(record.etags().get(i))
              .checksumSHA256(record.checksums().get(i))
              .checksumCRC32(parts.get(i).checksumCRC32())
              .build());
    }
    UploadLedger ledger =
        new UploadLedger(
            store.records(), store.config(), spec, record.partSizeBytes(), UploadOpener.resumable(spec),
            record.sha256Parts(), Optional.of(stored.eTag()), record.s3UploadId(), committed, state);
    return new S3Upload(
        store, spec, objectKey, record.partSizeBytes(), n * record.partSizeBytes(), verifier,
        stored, n + 1, ledger);
  }

  @Override
  public long committedSize() {
    return committedAtOpen;
  }

  @Override
  public synchronized long position() {
    return position;
  }

  @Override
  public CompletableFuture<Void> append(ByteBuffer data) {
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
    }
    return fill(data.duplicate());
  }

  private CompletableFuture<Void> fill(ByteBuffer d) {
    ChunkedBuffer full = null;
    synchronized (this) {
      if (failure == null && ledger.failure() != null) {
        failure = ledger.failure();
      }
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      if (!d.hasRemaining()) {
        // With the data taken, the next part's buffer is reserved before the writer hears so:
        // its next message then never waits for the budget while held outside it.
        if (buffer != null || nextBufferSize() <= 0) {
          return CompletableFuture.completedFuture(null);
        }
        return newBuffer(nextBufferSize());
      }
      if (buffer == null) {
        int size = nextBufferSize();
        if (size < 0) {
          return CompletableFuture.failedFuture(
              new StorageException(
                  Reason.SIZE_MISMATCH,
                  "received more than " + spec.expectedSize() + " bytes for " + spec.key()));
        }
        return newBuffer(size).thenCompose(v -> fill(d));
      }
      int n = Math.min(d.remaining(), buffer.remaining());
      ByteBuffer slice = d.slice();
      slice.limit(n);
      buffer.put(slice);
      d.position(d.position() + n);
      position += n;
      if (buffer.size() == partSize) {
        full = buffer;
      }
    }
    if (full != null) {
      return cutPart(true).thenCompose(v -> fill(d));
    }
    return fill(d);
  }

  /** Reserves {@code size} bytes of the budget and makes them the part buffer. */
  private CompletableFuture<Void> newBuffer(int size) {
    return store
        .budget()
        .reserve(size)
        .thenAccept(
            r -> {
              synchronized (this) {
                if (closed || failure != null || buffer != null) {
                  r.close();
                } else {
                  bufferReservation = r;
                  buffer = new ChunkedBuffer(size);
                }
              }
            });
  }

  /** The size of the next buffer: a part, or less when the declared size ends sooner; -1 past it. */
  private int nextBufferSize() {
    if (spec.expectedSize() < 0) {
      return (int) partSize;
    }
    long left = spec.expectedSize() - position;
    return left <= 0 ? -1 : (int) Math.min(partSize, left);
  }

  /**
   * Sends the buffer as the next part once a slot is free; completes when it is on its way. A
   * {@code full} part is hashed too, and the hash state after it saved in the record; the last part
   * is hashed by {@link #finish} before it is cut.
   */
  private CompletableFuture<Void> cutPart(boolean full) {
    int number;
    ChunkedBuffer body;
    MemoryBudget.Reservation reservation;
    CompletableFuture<Void> hashed;
    synchronized (this) {
      number = nextPart++;
      body = buffer;
      reservation = bufferReservation;
      buffer = null;
      bufferReservation = null;
      if (number > MAX_PARTS) {
        reservation.close();
        StorageException e =
            new StorageException(
                Reason.INVALID_REQUEST,
                spec.key() + " is larger than " + MAX_PARTS + " parts of " + partSize + " bytes");
        failure = e;
        return CompletableFuture.failedFuture(e);
      }
      parts.start();
      hashed = full ? hashPart(number, body) : CompletableFuture.completedFuture(null);
    }
    return parts.send(number, body, reservation, hashed);
  }

  /**
   * Hashes a full part after the parts before it, then hands the hash state after it to the
   * ledger, which records it once S3 holds the part too. A hash function whose state cannot be
   * saved (BLAKE3) records nothing: nothing of such an upload counts as committed, and a later
   * writer starts it again from zero.
   */
  private CompletableFuture<Void> hashPart(int number, ChunkedBuffer body) {
    // A detached upload may have a successor: its record is no longer ours to write, and nothing
    // will read its verifier again.
    CompletableFuture<Void> hashed =
        hasher.part(body.contents(), this::isDetached, state -> ledger.hashed(number, state));
    hashed.whenComplete(
        (v, err) -> {
          if (err != null) {
            fail(err);
          }
        });
    return hashed;
  }

  private synchronized boolean isDetached() {
    return detached;
  }

  private void fail(Throwable err) {
    synchronized (this) {
      if (failure == null) {
        failure = StorageException.from(err);
      }
    }
  }

  /**
   * Completes when every hash, part and record write started so far has ended, however: hashes
   * first, then parts, then the record writes they started.
   */
  private CompletableFuture<Void> settled() {
    return hasher
        .settled()
        .handle((v, e) -> null)
        .thenCompose(
            v -> parts.sent())
        // A part S3 confirmed may have started a record write: wait for that too.
        .thenCompose(v -> ledger.written().handle((x, e) -> null));
  }

  @Override
  public CompletableFuture<Long> finish() {
    ChunkedBuffer tail;
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      closed = true;
      if (failure != null) {
        dropBuffer();
        return CompletableFuture.failedFuture(failure);
      }
      tail = buffer;
    }
    return hasher.tail(tail == null ? new ByteBuffer[0] : tail.contents(), tail == null ? 0 : tail.size())
        .handle(
            (v, err) -> {
              if (err != null) {
                dropBuffer();
                throw StorageException.from(err);
              }
              return null;
            })
        .thenCompose(v -> verifiedThenPublished());
  }

  /** Checks size and digest, then publishes the blob; discards the upload when they are wrong. */
  private CompletableFuture<Long> verifiedThenPublished() {
    long total = position();
    try {
      hasher.verify(total);
    } catch (StorageException e) {
      dropBuffer();
      return discard(false).handle((v, err) -> { throw e; });
    }
    boolean single;
    synchronized (this) {
      single = nextPart == 1;
    }
    if (single) {
      return putWhole(total);
    }
    CompletableFuture<Void> last;
    synchronized (this) {
      last =
          buffer != null && buffer.size() > 0
              ? cutPart(false)
              : CompletableFuture.completedFuture(null);
      if (buffer != null) {
        dropBuffer();
      }
    }
    return last.thenCompose(v -> settled())
        // No record write may land after the record's DELETE: none is started from here on.
        .thenCompose(v -> ledger.close())
        .thenCompose(v -> allowedOrDiscarded())
        .thenCompose(
            v -> {
              List<CompletedPart> completed;
              String uploadId;
              synchronized (this) {
                if (failure == null && ledger.failure() != null) {
                  failure = ledger.failure();
                }
                if (failure != null) {
                  throw StorageException.from(failure);
                }
                completed = ledger.parts();
                uploadId = parts.uploadId().join();
              }
              return discardedIfExists(publisher.complete(uploadId, completed, total));
            })
        // An upload that never had a record (its parts could not be recorded) has none to delete.
        .thenCompose(
            r ->
                ledger.mayHaveRecord()
                    ? store.records().delete(spec).exceptionally(err -> null)
                    : CompletableFuture.<Void>completedFuture(null))
        .thenApply(v -> total);
  }

  /** Publishes a blob that never filled a part with one PutObject. */
  private CompletableFuture<Long> putWhole(long total) {
    ByteBuffer[] body;
    MemoryBudget.Reservation reservation;
    CompletableFuture<String> stale;
    synchronized (this) {
      body = buffer == null ? new ByteBuffer[0] : buffer.contents();
      reservation = bufferReservation;
      buffer = null;
      bufferReservation = null;
      stale = parts.uploadId();
    }
    return allowedOrDiscarded()
        .thenCompose(v -> publisher.put(body))
        .whenComplete(
            (v, err) -> {
              if (reservation != null) {
                reservation.close();
              }
            })
        .thenCompose(
            v ->
                stale == null
                    ? CompletableFuture.completedFuture(null)
                    : stale.thenCompose(id -> store.multipart().abort(objectKey, spec, id))
                        .exceptionally(err -> null))
        .thenApply(v -> total);
  }

  /** Fails with ALREADY_EXISTS, discarding the upload, when it may not replace a blob there. */
  private CompletableFuture<Void> allowedOrDiscarded() {
    return discardedIfExists(publisher.allowed());
  }

  /** {@code step}, discarding the upload first when it fails with ALREADY_EXISTS. */
  private CompletableFuture<Void> discardedIfExists(CompletableFuture<Void> step) {
    return step.exceptionallyCompose(
        err -> {
          StorageException e = StorageException.from(err);
          if (e.reason() != Reason.ALREADY_EXISTS) {
            return CompletableFuture.failedFuture(e);
          }
          return discard(false).handle((v, x) -> { throw e; });
        });
  }

  @Override
  public CompletableFuture<Long> suspend() {
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(closedError());
      }
      closed = true;
      // A partial part cannot be committed on its own.
      dropBuffer();
    }
    // The parts ready since the last record write are recorded now, so the client resumes after
    // all of them.
    return settled()
        .thenCompose(v -> ledger.flush().handle((x, e) -> null))
        .thenApply(
            v -> {
              synchronized (this) {
                if (ledger.failure() != null) {
                  throw ledger.failure();
                }
                return ledger.committedParts() * partSize;
              }
            })
        // Let go of the upload, so that nobody has to wait out this writer's lease.
        .thenCompose(committed -> ledger.release().thenApply(v -> committed));
  }

  @Override
  public void detach() {
    synchronized (this) {
      closed = true;
      detached = true;
      dropBuffer();
    }
    parts.cancel(closedError());
    // A stream cut or cancelled lets go of the upload once the record writes under way ended.
    ledger.release();
  }

  @Override
  public CompletableFuture<Void> abort() {
    detach();
    return discard(true);
  }

  /**
   * Aborts the multipart upload, if one was started, and deletes the record. With {@code leased},
   * a writer that resumed another's record and never wrote it discards it only once its holder let
   * go of it or its lease ran out; a failed verification discards at once, since a committed prefix
   * that does not verify must not keep honest writers out.
   */
  private CompletableFuture<Void> discard(boolean leased) {
    CompletableFuture<String> id;
    id = parts.uploadId();
    return settled()
        .thenCompose(
            v -> {
              if (leased && !ledger.lost() && heldByAnother()) {
                // Resumed but never recorded: the upload is its holder's until the lease ends.
                String s3UploadId = resumedFrom.record().s3UploadId();
                return new UploadLease(store)
                    .takeOver(spec, objectKey, resumedFrom)
                    .thenCompose(
                        taken ->
                            taken
                                ? store.multipart().abort(objectKey, spec, s3UploadId)
                                : store.multipart().abortMultipart(objectKey, s3UploadId));
              }
              if (!ledger.lost()) {
                return id == null
                    ? store.records().delete(spec)
                    : id.thenCompose(
                        uploadId -> store.multipart().abort(objectKey, spec, uploadId));
              }
              // The record is another writer's now: only an S3 upload this writer started is its
              // own to abort.
              return id == null || !ownS3Upload
                  ? CompletableFuture.<Void>completedFuture(null)
                  : id.thenCompose(
                      uploadId -> store.multipart().abortMultipart(objectKey, uploadId));
            });
  }

  /** Whether the record is still as this writer read it when it resumed: another's, not its own. */
  private boolean heldByAnother() {
    return resumedFrom != null && !ledger.wroteRecord();
  }

  private void dropBuffer() {
    synchronized (this) {
      buffer = null;
      if (bufferReservation != null) {
        bufferReservation.close();
        bufferReservation = null;
      }
    }
  }

  private StorageException closedError() {
    return new StorageException(Reason.INVALID_REQUEST, "upload to " + spec.key() + " is closed");
  }
}
