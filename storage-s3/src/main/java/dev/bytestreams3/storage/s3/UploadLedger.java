package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.UploadSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * One writer's account of its upload's parts, and the record it keeps of them. A part is ready for
 * the record only once S3 answered its UploadPart AND it was hashed (in part order), with the ETag
 * and SHA-256 checksum S3 gave it and the hash state after it: a state never describes a part S3 does not hold. Record
 * writes run one after another, each conditional on the ETag of the record this writer last saw,
 * so a writer that another one overtook learns so at its next write ({@code CONFLICT}) and writes
 * nothing more.
 *
 * <p>The record is written when this writer's first part is ready (which claims the upload at
 * once, and names the S3 upload for the idle sweep from its first part on), then once {@code
 * everyParts} more parts are ready or {@code every} has passed since the last write (a timer
 * writes parts that are ready and waiting), and on {@link #flush}. Only parts a record write that succeeded named are committed: parts ready since
 * are sent again by a successor.
 */
final class UploadLedger {

  private final UploadRecords records;
  private final UploadSpec spec;
  private final long partSize;
  private final String writer = UUID.randomUUID().toString();
  /** Whether a part's entry can be recorded: unverified, or its hash state can be saved. */
  private final boolean recordable;
  /** Whether the S3 upload was created declaring SHA-256 part checksums. */
  private final boolean sha256Parts;
  private final int everyParts;
  private final long everyNanos;

  // Guarded by this.
  private Optional<String> recordETag;
  private String s3UploadId;
  private final TreeMap<Integer, CompletedPart> ready = new TreeMap<>();
  private byte[] lastState;
  private final TreeMap<Integer, CompletedPart> sent = new TreeMap<>();
  private final Map<Integer, byte[]> hashed = new HashMap<>();
  private CompletableFuture<Void> writes = CompletableFuture.completedFuture(null);
  /** Parts the last record write asked for names; -1 before this writer asked for one. */
  private int askedParts = -1;
  private long askedAtNanos;
  /** Parts named by the record as this writer last wrote or read it. */
  private int writtenParts;
  /** Whether a record of this upload may exist: one was read at open, or a write was sent. */
  private boolean mayExist;
  private boolean timerSet;
  private boolean stopped;
  private boolean lost;
  private boolean wrote;
  private StorageException failure;

  /**
   * A ledger that starts from {@code parts} (1..n, named by the record) with {@code state} after them,
   * over the record with {@code recordETag} (empty: no record yet); the record is rewritten as
   * {@code schedule}'s {@code recordEveryParts} and {@code recordEvery} say.
   */
  UploadLedger(
      UploadRecords records,
      S3StoreConfig schedule,
      UploadSpec spec,
      long partSize,
      boolean recordable,
      boolean sha256Parts,
      Optional<String> recordETag,
      String s3UploadId,
      NavigableMap<Integer, CompletedPart> parts,
      byte[] state) {
    this.records = records;
    this.everyParts = schedule.recordEveryParts();
    this.everyNanos = schedule.recordEvery().toNanos();
    this.spec = spec;
    this.partSize = partSize;
    this.recordable = recordable;
    this.sha256Parts = sha256Parts;
    this.recordETag = recordETag;
    this.mayExist = recordETag.isPresent();
    this.s3UploadId = s3UploadId;
    this.ready.putAll(parts);
    this.writtenParts = parts.size();
    this.lastState = state;
  }

  /** Part {@code number} is hashed; {@code state} is the hash state after it (null: none kept). */
  synchronized void hashed(int number, byte[] state) {
    hashed.put(number, state);
    advance();
  }

  /** S3 answered part {@code number}'s UploadPart in {@code uploadId} with {@code part}. */
  synchronized void sent(int number, CompletedPart part, String uploadId) {
    s3UploadId = uploadId;
    sent.put(number, part);
    advance();
  }

  /**
   * Takes in the parts that are now both sent and hashed, in order from the last one taken, and
   * writes the record when it is due.
   */
  private void advance() {
    int before = ready.size();
    while (recordable
        && sent.containsKey(ready.size() + 1)
        && hashed.containsKey(ready.size() + 1)) {
      int next = ready.size() + 1;
      ready.put(next, sent.remove(next));
      lastState = hashed.remove(next);
    }
    if (ready.size() > before && !stopped) {
      if (due()) {
        write();
      } else {
        setTimer();
      }
    }
  }

  /**
   * Writes the parts ready by then once {@code every} has passed since the last write, so that a
   * writer whose client pauses, or whose last parts arrive together, still records them in time.
   * The timer only starts a write (on the JDK's delay scheduler); the write itself is asynchronous.
   */
  private void setTimer() {
    if (timerSet) {
      return;
    }
    timerSet = true;
    long delay = Math.max(0, askedAtNanos + everyNanos - System.nanoTime());
    CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS).execute(this::timerFired);
  }

  private synchronized void timerFired() {
    timerSet = false;
    if (!stopped && ready.size() > Math.max(askedParts, writtenParts)) {
      write();
    }
  }

  /** Whether the parts ready now call for a record write (see the class comment). */
  private boolean due() {
    return askedParts < 0
        || ready.size() - askedParts >= everyParts
        || System.nanoTime() - askedAtNanos >= everyNanos;
  }

  /**
   * Writes the record for every part ready and not yet asked for, if any; completes when every
   * record write asked for so far has ended, failing as the first failed.
   */
  synchronized CompletableFuture<Void> flush() {
    if (!stopped && ready.size() > Math.max(askedParts, writtenParts)) {
      write();
    }
    return writes;
  }

  private void write() {
    askedParts = ready.size();
    askedAtNanos = System.nanoTime();
    writes =
        writes.thenCompose(
            v -> {
              UploadRecord record;
              Optional<String> expected;
              int parts;
              synchronized (this) {
                if (stopped) {
                  return CompletableFuture.completedFuture(null);
                }
                expected = recordETag;
                record = snapshot(writer);
                parts = ready.size();
                askedParts = Math.max(askedParts, parts);
                mayExist = true;
              }
              return records
                  .write(spec, record, expected)
                  .handle(
                      (eTag, err) -> {
                        synchronized (this) {
                          if (err == null) {
                            recordETag = Optional.of(eTag);
                            wrote = true;
                            writtenParts = parts;
                            return null;
                          }
                          StorageException e = StorageException.from(err);
                          if (failure == null) {
                            failure = e;
                          }
                          if (e.reason() == StorageException.Reason.CONFLICT) {
                            lost = true;
                            stopped = true;
                          }
                          throw e;
                        }
                      });
            });
  }

  private UploadRecord snapshot(String writer) {
    NavigableMap<Integer, String> etags = new TreeMap<>();
    NavigableMap<Integer, String> checksums = new TreeMap<>();
    ready.forEach(
        (n, p) -> {
          etags.put(n, p.eTag());
          if (p.checksumSHA256() != null) {
            checksums.put(n, p.checksumSHA256());
          }
        });
    NavigableMap<Integer, byte[]> states = new TreeMap<>();
    if (lastState != null) {
      states.put(ready.size(), lastState);
    }
    return new UploadRecord(
        spec.key().value(), spec.uploadId(), s3UploadId, partSize, writer,
        spec.check().map(c -> c.function().id()), sha256Parts, etags, checksums, states);
  }

  /** Completes when every record write asked for so far has ended; fails as the first failed. */
  synchronized CompletableFuture<Void> written() {
    return writes;
  }

  /** The first record write's failure, or null. */
  synchronized StorageException failure() {
    return failure;
  }


  /** Whether this writer has written the record: it holds the upload, unless it lost it since. */
  synchronized boolean wroteRecord() {
    return wrote;
  }

  /**
   * Writes nothing more but, when this writer holds the record, once more with no writer named:
   * the upload is let go, and a writer that starts it over need not wait out this one's lease.
   * Completes when that write ended, however.
   */
  synchronized CompletableFuture<Void> release() {
    boolean holds = wrote && !lost && !stopped;
    stopped = true;
    if (!holds) {
      return writes.handle((v, e) -> null);
    }
    writes =
        writes
            .handle((v, e) -> null)
            .thenCompose(
                v -> {
                  UploadRecord record;
                  Optional<String> expected;
                  synchronized (this) {
                    if (lost) {
                      return CompletableFuture.completedFuture(null);
                    }
                    expected = recordETag;
                    record = snapshot("");
                  }
                  return records.write(spec, record, expected).handle((eTag, e) -> null);
                });
    return writes;
  }

  /**
   * Writes nothing more, and completes once the writes already asked for have ended, however: a
   * publishing writer's record is deleted after Complete, and no write may land after that.
   */
  synchronized CompletableFuture<Void> close() {
    stopped = true;
    return writes.handle((v, e) -> null);
  }

  /** Whether another writer took the record from this one. */
  synchronized boolean lost() {
    return lost;
  }

  /** The parts a later writer may resume after: those the record names. */
  synchronized int committedParts() {
    return writtenParts;
  }

  /** Whether a record of this upload may exist, and so must be deleted once it is published. */
  synchronized boolean mayHaveRecord() {
    return mayExist;
  }

  /** Every part S3 holds for this writer, in order, with the ETags the record names. */
  synchronized List<CompletedPart> parts() {
    TreeMap<Integer, CompletedPart> all = new TreeMap<>(sent);
    all.putAll(ready);
    return new ArrayList<>(all.values());
  }
}
