package dev.bytestreams3.benchmarks;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.ContentVerifier;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A store that keeps published blobs in the heap and does nothing else, so that a server on it
 * costs what the server itself costs: no file system, no network behind it, and no copy of bytes
 * that never change. Every call completes
 * on the caller's thread. An unfinished upload lives only as long as its writer: suspending it
 * commits nothing.
 */
final class HeapStore implements BlobStore {

  private final ConcurrentHashMap<BlobKey, Blob> blobs = new ConcurrentHashMap<>();

  @Override
  public CompletableFuture<OptionalLong> size(BlobKey key) {
    Blob b = blobs.get(key);
    return CompletableFuture.completedFuture(
        b == null ? OptionalLong.empty() : OptionalLong.of(b.size()));
  }

  @Override
  public CompletableFuture<Set<BlobKey>> findExisting(Collection<BlobKey> keys) {
    Set<BlobKey> found = new LinkedHashSet<>();
    for (BlobKey k : keys) {
      if (blobs.containsKey(k)) {
        found.add(k);
      }
    }
    return CompletableFuture.completedFuture(found);
  }

  @Override
  public CompletableFuture<UploadStatus> queryUpload(UploadSpec spec) {
    Blob b = blobs.get(spec.key());
    return CompletableFuture.completedFuture(
        b == null ? UploadStatus.unknown() : new UploadStatus(b.size(), true, true));
  }

  @Override
  public CompletableFuture<Upload> openUpload(UploadSpec spec) {
    if (!spec.overwrite() && blobs.containsKey(spec.key())) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Reason.ALREADY_EXISTS, spec.key() + " already exists and may not be replaced"));
    }
    return CompletableFuture.completedFuture(new HeapUpload(spec));
  }

  @Override
  public CompletableFuture<BlobReader> openReader(BlobKey key, long offset, long limit) {
    Blob b = blobs.get(key);
    if (b == null) {
      return CompletableFuture.failedFuture(
          new StorageException(Reason.NOT_FOUND, key + " not found"));
    }
    if (offset < 0 || offset > b.size()) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Reason.OUT_OF_RANGE,
              "offset " + offset + " is outside " + key + " of " + b.size() + " bytes"));
    }
    long end = limit == 0 ? b.size() : Math.min(b.size(), offset + limit);
    return CompletableFuture.completedFuture(new HeapReader(b, offset, end));
  }

  @Override
  public CompletableFuture<Void> put(BlobKey key, ByteBuffer data) {
    byte[] b = new byte[data.remaining()];
    data.duplicate().get(b);
    blobs.put(key, Blob.of(b));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
    Blob b = blobs.get(key);
    if (b == null) {
      return CompletableFuture.failedFuture(new StorageException(Reason.NOT_FOUND, key + " not found"));
    }
    if (b.size() > maxBytes) {
      return CompletableFuture.failedFuture(
          new StorageException(
              Reason.TOO_LARGE, key + " is " + b.size() + " bytes (expected: <= " + maxBytes + ")"));
    }
    return CompletableFuture.completedFuture(ByteBuffer.wrap(b.whole()).asReadOnlyBuffer());
  }

  @Override
  public void close() {
    blobs.clear();
  }

  /**
   * Keeps each append, copied unless it never changes, and publishes them together as one blob.
   */
  private final class HeapUpload implements Upload {

    private final UploadSpec spec;
    private final ContentVerifier verifier;
    private final List<ByteBuffer> chunks = new ArrayList<>();
    private long size;

    HeapUpload(UploadSpec spec) {
      this.spec = spec;
      this.verifier = ContentVerifier.start(spec);
    }

    @Override
    public long committedSize() {
      return 0;
    }

    @Override
    public synchronized long position() {
      return size;
    }

    @Override
    public CompletableFuture<Void> append(ByteBuffer data) {
      ByteBuffer copy = ByteBuffer.allocate(data.remaining());
      copy.put(data.duplicate()).flip();
      return appendUnchanging(copy);
    }

    @Override
    public synchronized CompletableFuture<Void> appendUnchanging(ByteBuffer data) {
      verifier.update(data);
      chunks.add(data.slice().asReadOnlyBuffer());
      size += data.remaining();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Long> finish() {
      try {
        verifier.verify(size);
      } catch (StorageException e) {
        return CompletableFuture.failedFuture(e);
      }
      Blob blob = new Blob(List.copyOf(chunks), size);
      if (spec.overwrite()) {
        blobs.put(spec.key(), blob);
      } else if (blobs.putIfAbsent(spec.key(), blob) != null) {
        return CompletableFuture.failedFuture(
            new StorageException(
                Reason.ALREADY_EXISTS, spec.key() + " already exists and may not be replaced"));
      }
      return CompletableFuture.completedFuture(size);
    }

    @Override
    public CompletableFuture<Long> suspend() {
      return CompletableFuture.completedFuture(0L);
    }

    @Override
    public void detach() {}

    @Override
    public CompletableFuture<Void> abort() {
      return CompletableFuture.completedFuture(null);
    }
  }

  /** A published blob: its bytes in the buffers they arrived in. */
  private record Blob(List<ByteBuffer> chunks, long size) {

    static Blob of(byte[] bytes) {
      return new Blob(List.of(ByteBuffer.wrap(bytes).asReadOnlyBuffer()), bytes.length);
    }

    byte[] whole() {
      byte[] all = new byte[Math.toIntExact(size)];
      int at = 0;
      for (ByteBuffer c : chunks) {
        int n = c.remaining();
        c.duplicate().get(all, at, n);
        at += n;
      }
      return all;
    }
  }

  /** Hands out read-only views of a blob's buffers, in order, at most a chunk each. */
  private static final class HeapReader implements BlobReader {

    private final Blob blob;
    private final long end;
    private long position;
    private int chunk;
    private long chunkStart;

    HeapReader(Blob blob, long from, long end) {
      this.blob = blob;
      this.position = from;
      this.end = end;
    }

    @Override
    public long blobSize() {
      return blob.size();
    }

    @Override
    public synchronized CompletableFuture<ByteBuffer> next() {
      if (position >= end) {
        return CompletableFuture.completedFuture(null);
      }
      ByteBuffer c = blob.chunks().get(chunk);
      while (position >= chunkStart + c.remaining()) {
        chunkStart += c.remaining();
        c = blob.chunks().get(++chunk);
      }
      int from = (int) (position - chunkStart);
      int n = (int) Math.min(Math.min(MAX_CHUNK_BYTES, c.remaining() - from), end - position);
      position += n;
      return CompletableFuture.completedFuture(c.slice(c.position() + from, n));
    }

    @Override
    public void close() {}
  }
}
