package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.ContentVerifier;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * One upload written as an S3 multipart upload. Bytes are copied into a part buffer reserved from
 * the memory budget; a full buffer becomes a part sent while the writer goes on, with at most
 * {@code maxPartsInFlight} parts in flight. Each full part is hashed on the store's hash threads,
 * one part after another, beside its UploadPart, so the thread that receives the bytes only copies
 * them. Once a part is hashed, the upload's record is rewritten with the hash state after it
 * (record writes run one after another), so any process can resume and still verify; a detached
 * upload hashes and records nothing more. A part's buffer and its slot are given back once it is
 * both sent and hashed. A blob that ends before its first part is full is one PutObject.
 */
final class S3Upload implements Upload {

  /** S3's most parts per upload. */
  static final int MAX_PARTS = 10_000;

  private static final long MIB = 1024 * 1024;

  /** At most this much left to hash when finishing is hashed on the finishing thread. */
  private static final int HASH_IN_PLACE_BYTES = ChunkedBuffer.CHUNK_BYTES;

  private final S3BlobStore store;
  private final UploadSpec spec;
  private final String objectKey;
  private final long partSize;
  private final long committedAtOpen;
  private final ContentVerifier verifier;
  private final Permits slots;
  private final boolean checksums;

  // Guarded by this.
  private CompletableFuture<String> s3UploadId;
  private final TreeMap<Integer, CompletedPart> completed = new TreeMap<>();
  private final NavigableMap<Integer, byte[]> states = new TreeMap<>();
  private final Set<CompletableFuture<?>> inFlight = new HashSet<>();
  private final Set<CompletableFuture<?>> requests = new HashSet<>();
  private int contiguousDone;
  private int nextPart;
  private long position;
  private ChunkedBuffer buffer;
  private MemoryBudget.Reservation bufferReservation;
  private CompletableFuture<Void> recordChain = CompletableFuture.completedFuture(null);
  // The verifier is used only by the step at the end of this chain.
  private CompletableFuture<Void> hashChain = CompletableFuture.completedFuture(null);
  private Throwable failure;
  private boolean closed;
  private boolean detached;

  private S3Upload(
      S3BlobStore store, UploadSpec spec, String objectKey, long partSize, long committed,
      ContentVerifier verifier, String s3UploadId, int nextPart) {
    this.store = store;
    this.spec = spec;
    this.objectKey = objectKey;
    this.partSize = partSize;
    this.committedAtOpen = committed;
    this.position = committed;
    this.verifier = verifier;
    this.nextPart = nextPart;
    this.contiguousDone = nextPart - 1;
    this.s3UploadId = s3UploadId == null ? null : CompletableFuture.completedFuture(s3UploadId);
    this.slots = new Permits(store.config().maxPartsInFlight());
    this.checksums = store.config().checksumMode() == S3StoreConfig.ChecksumMode.WHEN_SUPPORTED;
  }

  /** S3's largest object: 5 TiB. */
  static final long MAX_OBJECT_BYTES = 5L << 40;

  /** A new upload; nothing is sent to S3 until a part is full or the upload finishes. */
  static S3Upload fresh(S3BlobStore store, UploadSpec spec, String objectKey) {
    checkBufferable(store, spec);
    return new S3Upload(
        store, spec, objectKey, partSizeOf(store, spec), 0, ContentVerifier.start(spec), null, 1);
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

  /** Resumes the upload in {@code record} after the committed parts among {@code parts}. */
  static S3Upload resumed(
      S3BlobStore store, UploadSpec spec, String objectKey, UploadRecord record,
      Map<Integer, Part> parts) {
    int n = record.committedParts(List.copyOf(parts.keySet()));
    ContentVerifier verifier =
        n == 0 || spec.check().isEmpty()
            ? ContentVerifier.start(spec)
            : ContentVerifier.resume(spec, Optional.of(record.states().get(n)));
    S3Upload u =
        new S3Upload(
            store, spec, objectKey, record.partSizeBytes(), n * record.partSizeBytes(), verifier,
            record.s3UploadId(), n + 1);
    for (int i = 1; i <= n; i++) {
      Part p = parts.get(i);
      u.completed.put(
          i,
          CompletedPart.builder().partNumber(i).eTag(p.eTag()).checksumCRC32(p.checksumCRC32()).build());
    }
    if (n > 0 && spec.check().isPresent()) {
      u.states.put(n, record.states().get(n));
    }
    return u;
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
      if (s3UploadId == null) {
        s3UploadId = createMultipart();
      }
      hashed = full ? hashPart(number, body) : CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> slot = slots.acquire();
    // Given up while waiting for a slot: the bytes leave the budget once no longer hashed.
    slot.whenComplete(
        (v, err) -> {
          if (err != null) {
            hashed.whenComplete((x, e) -> reservation.close());
          }
        });
    return slot.thenAccept(
        v -> {
          CompletableFuture<Void> sent = uploadPart(number, body);
          synchronized (this) {
            inFlight.add(sent);
          }
          sent.whenComplete(
              (x, err) -> {
                synchronized (this) {
                  inFlight.remove(sent);
                }
              });
          CompletableFuture.allOf(sent, hashed)
              .whenComplete(
                  (x, err) -> {
                    reservation.close();
                    slots.release();
                  });
        });
  }

  /**
   * Hashes a full part after the parts before it, then saves the hash state after it in the
   * record. A hash function whose state cannot be saved (BLAKE3) records no state: nothing of such
   * an upload counts as committed, and a later writer starts it again from zero.
   */
  private CompletableFuture<Void> hashPart(int number, ChunkedBuffer body) {
    ByteBuffer[] chunks = body.contents();
    CompletableFuture<Void> hashed =
        hashChain.thenRunAsync(
            () -> {
              synchronized (this) {
                // A detached upload may have a successor: its record is no longer ours to write,
                // and nothing will read its verifier again.
                if (detached) {
                  return;
                }
              }
              hash(chunks);
              byte[] state =
                  spec.check().isPresent() && verifier.resumable()
                      ? verifier.saveState().orElseThrow()
                      : null;
              synchronized (this) {
                if (state != null) {
                  states.put(number, state);
                }
                if (!detached) {
                  saveRecord();
                }
              }
            },
            store.hashThreads());
    hashChain = hashed;
    hashed.whenComplete(
        (v, err) -> {
          if (err != null) {
            fail(err);
          }
        });
    return hashed;
  }

  /** Hashes the bytes of {@code tail}, the part not yet cut, after every part before it. */
  private CompletableFuture<Void> hashTail(ChunkedBuffer tail) {
    ByteBuffer[] chunks = tail == null ? new ByteBuffer[0] : tail.contents();
    synchronized (this) {
      if (chunks.length == 0) {
        return hashChain;
      }
      if (hashChain.isDone() && !hashChain.isCompletedExceptionally()
          && tail.size() <= HASH_IN_PLACE_BYTES) {
        hash(chunks);
        return hashChain;
      }
      hashChain = hashChain.thenRunAsync(() -> hash(chunks), store.hashThreads());
      return hashChain;
    }
  }

  /** Adds {@code chunks} to the verifier; only the step at the end of the hash chain may. */
  private void hash(ByteBuffer[] chunks) {
    for (ByteBuffer c : chunks) {
      verifier.update(c);
    }
  }

  private CompletableFuture<String> createMultipart() {
    return store
        .call(
            "CreateMultipartUpload",
            objectKey,
            () ->
                store
                    .client()
                    .createMultipartUpload(
                        r -> {
                          r.bucket(store.bucket()).key(objectKey);
                          if (checksums) {
                            r.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                          }
                        }))
        .thenApply(r -> r.uploadId());
  }

  /** Rewrites the record after the writes before it, with every hash state not yet confirmed. */
  private void saveRecord() {
    CompletableFuture<String> id = s3UploadId;
    // Parts up to contiguousDone are complete: of their states, only the latest is needed.
    Integer latestComplete = states.floorKey(contiguousDone);
    if (latestComplete != null) {
      states.headMap(latestComplete, false).clear();
    }
    NavigableMap<Integer, byte[]> snapshot = new TreeMap<>(states);
    recordChain =
        recordChain
            .thenCompose(v -> id)
            .thenCompose(
                uploadId ->
                    store.writeRecord(
                        spec,
                        new UploadRecord(
                            spec.key().value(), spec.uploadId(), uploadId, partSize,
                            spec.check().map(c -> c.function().id()), snapshot)));
    recordChain.whenComplete(
        (v, err) -> {
          if (err != null) {
            fail(err);
          }
        });
  }

  private CompletableFuture<Void> uploadPart(int number, ChunkedBuffer body) {
    ReleasableBody content = new ReleasableBody(body.contents());
    CompletableFuture<Void> sent =
        s3UploadId.thenCompose(
            uploadId -> {
              CompletableFuture<UploadPartResponse> request =
                store.call(
                    "UploadPart " + number + " of",
                    objectKey,
                    () ->
                        store
                            .client()
                            .uploadPart(
                                r -> {
                                  r.bucket(store.bucket())
                                      .key(objectKey)
                                      .uploadId(uploadId)
                                      .partNumber(number)
                                      .contentLength((long) body.size());
                                  if (checksums) {
                                    r.checksumAlgorithm(ChecksumAlgorithm.CRC32);
                                  }
                                },
                                content));
              synchronized (this) {
                requests.add(request);
              }
              request.whenComplete(
                  (r, err) -> {
                    synchronized (this) {
                      requests.remove(request);
                    }
                  });
              return request;
            })
            .thenAccept(
                r -> {
                  synchronized (this) {
                    completed.put(
                        number,
                        CompletedPart.builder()
                            .partNumber(number)
                            .eTag(r.eTag())
                            .checksumCRC32(r.checksumCRC32())
                            .build());
                    while (completed.containsKey(contiguousDone + 1)) {
                      contiguousDone++;
                    }
                  }
                });
    sent.whenComplete(
        (v, err) -> {
          // The part's bytes are about to leave the budget, so nothing may keep them: not even the
          // SDK.
          content.release();
          if (err != null) {
            fail(err);
          }
        });
    return sent;
  }

  private void fail(Throwable err) {
    synchronized (this) {
      if (failure == null) {
        failure = StorageException.from(err);
      }
    }
  }

  /**
   * Completes when every hash, part and record write started so far has ended, however. Hashing
   * goes first: a hashed part starts its record write.
   */
  private CompletableFuture<Void> settled() {
    CompletableFuture<Void> hashes;
    synchronized (this) {
      hashes = hashChain;
    }
    return hashes
        .handle((v, e) -> null)
        .thenCompose(
            v -> {
              List<CompletableFuture<?>> all;
              synchronized (this) {
                all = new ArrayList<>(inFlight);
                all.add(recordChain);
              }
              return CompletableFuture.allOf(
                  all.stream()
                      .map(f -> f.handle((x, e) -> null))
                      .toArray(CompletableFuture[]::new));
            });
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
    return hashTail(tail)
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
      verifier.verify(total);
    } catch (StorageException e) {
      dropBuffer();
      return discard().handle((v, err) -> { throw e; });
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
        .thenCompose(v -> ensureAllowed())
        .thenCompose(
            v -> {
              List<CompletedPart> parts;
              String uploadId;
              synchronized (this) {
                if (failure != null) {
                  throw StorageException.from(failure);
                }
                parts = new ArrayList<>(completed.values());
                uploadId = s3UploadId.join();
              }
              return store.call(
                  "CompleteMultipartUpload",
                  objectKey,
                  () ->
                      store
                          .client()
                          .completeMultipartUpload(
                              r ->
                                  r.bucket(store.bucket())
                                      .key(objectKey)
                                      .uploadId(uploadId)
                                      .multipartUpload(m -> m.parts(parts))));
            })
        .thenCompose(r -> store.deleteRecord(spec).exceptionally(err -> null))
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
      stale = s3UploadId;
    }
    return ensureAllowed()
        .thenCompose(v -> store.putObject(objectKey, body))
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
                    : stale.thenCompose(id -> store.abortUpload(objectKey, spec, id))
                        .exceptionally(err -> null))
        .thenApply(v -> total);
  }

  /** Fails with ALREADY_EXISTS, discarding the upload, when it may not replace a blob there. */
  private CompletableFuture<Void> ensureAllowed() {
    if (spec.overwrite()) {
      return CompletableFuture.completedFuture(null);
    }
    return store
        .size(spec.key())
        .thenCompose(
            s -> {
              if (s.isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              StorageException e = S3BlobStore.alreadyExists(spec);
              return discard().handle((v, err) -> { throw e; });
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
    return settled()
        .thenApply(
            v -> {
              synchronized (this) {
                if (recordChain.isCompletedExceptionally()) {
                  throw StorageException.from(failure);
                }
                if (spec.check().isEmpty()) {
                  return contiguousDone * partSize;
                }
                Integer withState = states.floorKey(contiguousDone);
                return withState == null ? 0L : withState * partSize;
              }
            });
  }

  @Override
  public void detach() {
    List<CompletableFuture<?>> cancel;
    synchronized (this) {
      closed = true;
      detached = true;
      dropBuffer();
      cancel = new ArrayList<>(inFlight);
      cancel.addAll(requests);
    }
    slots.failWaiters(closedError());
    cancel.forEach(f -> f.cancel(true));
  }

  @Override
  public CompletableFuture<Void> abort() {
    detach();
    return discard();
  }

  /** Aborts the multipart upload, if one was started, and deletes the record. */
  private CompletableFuture<Void> discard() {
    CompletableFuture<String> id;
    synchronized (this) {
      id = s3UploadId;
    }
    return settled()
        .thenCompose(
            v ->
                id == null
                    ? store.deleteRecord(spec)
                    : id.thenCompose(uploadId -> store.abortUpload(objectKey, spec, uploadId)));
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
