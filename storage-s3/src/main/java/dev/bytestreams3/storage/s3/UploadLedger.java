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
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * One writer's account of its upload's parts, and the record it keeps of them. A part enters the
 * record only once S3 answered its UploadPart AND it was hashed (in part order), with the ETag S3
 * gave it and the hash state after it: a state never describes a part S3 does not hold. Record
 * writes run one after another, each conditional on the ETag of the record this writer last saw,
 * so a writer that another one overtook learns so at its next write ({@code CONFLICT}) and writes
 * nothing more. At most one record write per part.
 */
final class UploadLedger {

  private final UploadRecords records;
  private final UploadSpec spec;
  private final long partSize;
  private final String writer = UUID.randomUUID().toString();
  /** Whether a part's entry can be recorded: unverified, or its hash state can be saved. */
  private final boolean recordable;

  // Guarded by this.
  private Optional<String> recordETag;
  private String s3UploadId;
  private final TreeMap<Integer, CompletedPart> recorded = new TreeMap<>();
  private byte[] lastState;
  private final TreeMap<Integer, CompletedPart> sent = new TreeMap<>();
  private final Map<Integer, byte[]> hashed = new HashMap<>();
  private CompletableFuture<Void> writes = CompletableFuture.completedFuture(null);
  private boolean stopped;
  private boolean lost;
  private boolean wrote;
  private StorageException failure;

  /**
   * A ledger that starts from {@code parts} (1..n, already recorded) with {@code state} after them,
   * over the record with {@code recordETag} (empty: no record yet).
   */
  UploadLedger(
      UploadRecords records,
      UploadSpec spec,
      long partSize,
      boolean recordable,
      Optional<String> recordETag,
      String s3UploadId,
      NavigableMap<Integer, CompletedPart> parts,
      byte[] state) {
    this.records = records;
    this.spec = spec;
    this.partSize = partSize;
    this.recordable = recordable;
    this.recordETag = recordETag;
    this.s3UploadId = s3UploadId;
    this.recorded.putAll(parts);
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

  /** Records the parts that are now both sent and hashed, in order from the last recorded one. */
  private void advance() {
    int before = recorded.size();
    while (recordable
        && sent.containsKey(recorded.size() + 1)
        && hashed.containsKey(recorded.size() + 1)) {
      int next = recorded.size() + 1;
      recorded.put(next, sent.remove(next));
      lastState = hashed.remove(next);
    }
    if (recorded.size() > before && !stopped) {
      write();
    }
  }

  private void write() {
    writes =
        writes.thenCompose(
            v -> {
              UploadRecord record;
              Optional<String> expected;
              synchronized (this) {
                if (stopped) {
                  return CompletableFuture.completedFuture(null);
                }
                expected = recordETag;
                record = snapshot(writer);
              }
              return records
                  .write(spec, record, expected)
                  .handle(
                      (eTag, err) -> {
                        synchronized (this) {
                          if (err == null) {
                            recordETag = Optional.of(eTag);
                            wrote = true;
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
    recorded.forEach((n, p) -> etags.put(n, p.eTag()));
    NavigableMap<Integer, byte[]> states = new TreeMap<>();
    if (lastState != null) {
      states.put(recorded.size(), lastState);
    }
    return new UploadRecord(
        spec.key().value(), spec.uploadId(), s3UploadId, partSize, writer,
        spec.check().map(c -> c.function().id()), etags, states);
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

  /** Whether another writer took the record from this one. */
  synchronized boolean lost() {
    return lost;
  }

  /** The parts a later writer may resume after: those recorded. */
  synchronized int committedParts() {
    return recorded.size();
  }

  /** Every part S3 holds for this writer, in order, with the ETags the record names. */
  synchronized List<CompletedPart> parts() {
    TreeMap<Integer, CompletedPart> all = new TreeMap<>(sent);
    all.putAll(recorded);
    return new ArrayList<>(all.values());
  }
}
