package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads a range of one object as ranged GETs of one segment each. At most {@code
 * maxSegmentsInFlight} segments are held at once, counting the one being delivered, each reserved
 * from the memory budget before it is requested; a new one is requested only when the reader has
 * consumed one, so a slow reader holds the store back instead of filling memory. Segments beyond
 * the next one are read ahead only once the client has taken half of its first segment (a client
 * that takes a message or two and stops holds one segment, not {@code maxSegmentsInFlight}), and
 * only while the budget is at most half reserved.
 *
 * <p>A read that starts while the budget is contended (more than half reserved, or anyone waiting
 * for it) starts with {@link #CONTENDED_FIRST_SEGMENT_BYTES} and doubles its segments as its
 * client consumes them, up to the configured size: a reader that takes nothing then holds a small
 * segment rather than a whole one until it is ended as idle, and many such readers cannot keep
 * the budget from the calls that make progress. An uncontended read uses whole segments at once,
 * so it costs no more GETs.
 *
 * <p>Every GET asks for the object the reader was opened on (its ETag in {@code If-Match}): when
 * the object is replaced meanwhile, S3 answers 412 and the read ends with {@link
 * Reason#CONFLICT}, never mixing bytes of two objects.
 */
final class S3BlobReader implements BlobReader {

  /** Read-ahead of all readers together stays within one in this many bytes of the budget. */
  static final int READ_AHEAD_SHARE = 2;

  /** The first segment of a read that starts while the budget is contended. */
  static final int CONTENDED_FIRST_SEGMENT_BYTES = 256 * 1024;

  private final S3BlobStore store;
  private final String objectKey;
  /** The ETag every GET must match; null when the store gave none. */
  private final String eTag;
  private final long blobSize;
  private final long end;
  private final int segmentBytes;
  /** The size of the next segment: it grows to {@link #segmentBytes} as segments are consumed. */
  private int nextSegmentBytes;
  private final int maxSegments;
  private final ArrayDeque<Segment> pending = new ArrayDeque<>();
  private long nextStart;
  private Segment current;
  /** The current segment's bytes not yet handed out, chunk by chunk. */
  private ArrayDeque<ByteBuffer> currentData;
  /** Bytes of the current segment handed out so far. */
  private long handedOut;
  /** Whether the client has taken enough to be worth segments beyond the next one. */
  private boolean readingAhead;
  private boolean closed;

  S3BlobReader(
      S3BlobStore store, String objectKey, String eTag, long blobSize, long start, long end,
      int segmentBytes, int maxSegments) {
    this.store = store;
    this.objectKey = objectKey;
    this.eTag = eTag;
    this.blobSize = blobSize;
    this.nextStart = start;
    this.end = end;
    // One segment is one reservation, which the budget caps.
    this.segmentBytes = (int) Math.min(segmentBytes, store.budget().maxReservationBytes());
    this.nextSegmentBytes =
        contended(store.budget(), this.segmentBytes)
            ? Math.min(this.segmentBytes, CONTENDED_FIRST_SEGMENT_BYTES)
            : this.segmentBytes;
    this.maxSegments = maxSegments;
  }

  /** Whether a new read's whole segment would take the budget past its read-ahead share. */
  private static boolean contended(MemoryBudget budget, int segmentBytes) {
    return budget.waiting() > 0
        || budget.usedBytes() + segmentBytes > budget.capacityBytes() / READ_AHEAD_SHARE;
  }

  @Override
  public long blobSize() {
    return blobSize;
  }

  @Override
  public synchronized CompletableFuture<ByteBuffer> next() {
    if (closed) {
      return CompletableFuture.failedFuture(
          new StorageException(Reason.CANCELLED, "read of " + objectKey + " is closed"));
    }
    if (currentData != null && !currentData.isEmpty()) {
      ByteBuffer chunk = chunk();
      if (!readingAhead && 2 * handedOut >= current.length) {
        // Half a segment taken: a client that reads on, so the next segments are worth asking for.
        readingAhead = true;
        // The current segment counts among those in flight.
        requestSegments(maxSegments - 1);
      }
      return CompletableFuture.completedFuture(chunk);
    }
    if (current != null) {
      current.release();
      current = null;
      currentData = null;
      // The client took a whole segment: it may have larger ones, and read-ahead.
      nextSegmentBytes = (int) Math.min(segmentBytes, 2L * nextSegmentBytes);
      readingAhead = true;
    }
    // One of them becomes the current segment at once.
    requestSegments(maxSegments);
    Segment s = pending.poll();
    if (s == null) {
      return CompletableFuture.completedFuture(null);
    }
    current = s;
    handedOut = 0;
    return s.data.thenApply(
        data -> {
          synchronized (this) {
            if (closed) {
              throw new StorageException(Reason.CANCELLED, "read of " + objectKey + " is closed");
            }
            currentData = new ArrayDeque<>(java.util.Arrays.asList(data.contents()));
            return chunk();
          }
        });
  }

  /**
   * Asks for the segment the client needs next, when none is pending, and, once it reads on,
   * for those after it while the budget has room to spare, up to {@code maxPending} pending;
   * holds the lock.
   */
  private void requestSegments(int maxPending) {
    while (pending.size() < maxPending && nextStart < end) {
      int length = (int) Math.min(nextSegmentBytes, end - nextStart);
      Segment next;
      if (pending.isEmpty()) {
        // The segment the reader needs next: it waits for the budget like any other buffer.
        next = new Segment(nextStart, length, store.budget().reserve(length));
      } else {
        if (!readingAhead) {
          break;
        }
        // Read-ahead: only while the budget has room to spare, so slow readers cannot hold much
        // of it beyond what they are reading now.
        MemoryBudget.Reservation r =
            store.budget().tryReserve(length, store.budget().capacityBytes() / READ_AHEAD_SHARE);
        if (r == null) {
          break;
        }
        next = new Segment(nextStart, length, CompletableFuture.completedFuture(r));
      }
      pending.add(next);
      nextStart += length;
    }
  }

  private ByteBuffer chunk() {
    ByteBuffer head = currentData.peek();
    int n = Math.min(MAX_CHUNK_BYTES, head.remaining());
    ByteBuffer slice = head.slice();
    slice.limit(n);
    head.position(head.position() + n);
    handedOut += n;
    if (!head.hasRemaining()) {
      currentData.poll();
    }
    return slice;
  }

  @Override
  public void close() {
    ArrayDeque<Segment> dropped;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      dropped = new ArrayDeque<>(pending);
      pending.clear();
      if (current != null) {
        dropped.add(current);
      }
      current = null;
      currentData = null;
    }
    dropped.forEach(Segment::release);
  }

  /** One ranged GET: its reservation, its request and its bytes. */
  private final class Segment {
    private final int length;
    private final CompletableFuture<MemoryBudget.Reservation> reservation;
    private final CompletableFuture<ChunkedBuffer> data;
    private volatile CompletableFuture<ChunkedBuffer> request;

    Segment(long start, int length, CompletableFuture<MemoryBudget.Reservation> reservation) {
      this.length = length;
      this.reservation = reservation;
      data =
          reservation
              .thenCompose(
                  r -> {
                    CompletableFuture<ChunkedBuffer> f =
                        store.reads().getRange(objectKey, eTag, start, length);
                    request = f;
                    return f;
                  })
              .handle(
                  (b, err) -> {
                    if (err == null) {
                      return b;
                    }
                    if (replaced(err)) {
                      throw new StorageException(
                          Reason.CONFLICT,
                          "the blob was replaced while it was being read; read it again",
                          StorageException.from(err));
                    }
                    throw err instanceof CompletionException c ? c : new CompletionException(err);
                  });
    }

    /** Whether {@code err} is S3 refusing the ETag the GET had to match. */
    private boolean replaced(Throwable err) {
      Throwable cause = StorageException.from(err).getCause();
      return cause instanceof S3Exception e && e.statusCode() == 412;
    }

    void release() {
      reservation.cancel(false);
      CompletableFuture<ChunkedBuffer> f = request;
      if (f != null) {
        f.cancel(true);
      }
      data.cancel(false);
      if (reservation.isDone() && !reservation.isCompletedExceptionally()) {
        reservation.join().close();
      }
    }
  }
}
