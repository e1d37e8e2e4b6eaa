package dev.bytestreams3.service.cas;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Walks a directory tree breadth-first and streams it in pages, each sent as soon as it is read
 * and only while the client takes them, so a call holds one page at a time. Every directory is
 * read with the size its digest declares as the cap, a few at a time. Directories missing from
 * the CAS (or held there with another size) are left out with their subtrees, as GetTree returns
 * whatever part of the tree exists; a missing root is {@code NOT_FOUND}.
 *
 * <p>Each page carries a token naming the directories still to visit ({@link TreePageToken}), so
 * any replica continues the walk from it without reading the tree again from the root. A call
 * visits a directory it has seen once only; a walk continued from a token may repeat a subtree
 * shared across the pages of the two calls.
 */
final class TreePages {

  static final int DEFAULT_PAGE_SIZE = 1000;
  static final int MAX_PAGE_SIZE = 10_000;
  /** Directory reads one call runs at once. */
  static final int READS_IN_FLIGHT = 16;
  /** The most directory bytes in one page, so a page fits a gRPC message with its token. */
  static final long MAX_PAGE_BYTES = 3L << 20;
  /** The largest directory read; it fills a page alone. */
  static final long MAX_DIRECTORY_BYTES = MAX_PAGE_BYTES;
  /** The most directories a walk has waiting at once, which bounds its memory and its token. */
  static final int MAX_PENDING = 10_000;
  /** The most directories a call remembers as seen; past it, shared subtrees may repeat. */
  static final int MAX_SEEN = 20_000;

  private final BlobStore store;
  private final DigestFunctions digests;
  private final KeyLayout layout;

  TreePages(BlobStore store, DigestFunctions digests, KeyLayout layout) {
    this.store = store;
    this.digests = digests;
    this.layout = layout;
  }

  /**
   * Streams the tree {@code request} asks for to {@code responses}.
   *
   * @throws IllegalArgumentException when the request is malformed; nothing has been sent then
   */
  void stream(
      String instance, GetTreeRequest request, ServerCallStreamObserver<GetTreeResponse> responses) {
    BlobDigest root = digests.resolve(request.getDigestFunction(), request.getRootDigest());
    if (request.getPageSize() < 0) {
      throw new IllegalArgumentException(
          "page_size " + request.getPageSize() + " is negative (expected: >= 0)");
    }
    int pageSize =
        request.getPageSize() == 0
            ? DEFAULT_PAGE_SIZE
            : Math.min(request.getPageSize(), MAX_PAGE_SIZE);
    Walk walk =
        request.getPageToken().isEmpty()
            ? new Walk(instance, root, List.of(root), true, pageSize, responses)
            : new Walk(
                instance,
                root,
                TreePageToken.decode(request.getPageToken(), root, MAX_PENDING),
                false,
                pageSize,
                responses);
    walk.start();
  }

  /** One call's walk: the directories still to visit, those seen, and the page being filled. */
  private final class Walk {
    private final String instance;
    private final BlobDigest root;
    private final int pageSize;
    private final ServerCallStreamObserver<GetTreeResponse> responses;
    private final ArrayDeque<BlobDigest> pending = new ArrayDeque<>();
    /** Digests already met, size and all: a hash with a wrong size is not the same directory. */
    private final Set<BlobDigest> seen = new HashSet<>();
    private final AtomicBoolean producing = new AtomicBoolean();
    private volatile boolean rootPending;
    private volatile boolean finished;

    Walk(
        String instance,
        BlobDigest root,
        List<BlobDigest> start,
        boolean fromRoot,
        int pageSize,
        ServerCallStreamObserver<GetTreeResponse> responses) {
      this.instance = instance;
      this.root = root;
      this.pageSize = pageSize;
      this.responses = responses;
      this.rootPending = fromRoot;
      for (BlobDigest d : start) {
        pending.add(d);
        seen.add(d);
      }
    }

    void start() {
      responses.setOnCancelHandler(() -> finished = true);
      responses.setOnReadyHandler(this::pump);
      pump();
    }

    /** Reads and sends the next page, if the client is ready for it and none is on its way. */
    private void pump() {
      while (!finished && responses.isReady() && producing.compareAndSet(false, true)) {
        CompletableFuture<GetTreeResponse> page;
        try {
          page = nextPage();
        } catch (RuntimeException e) {
          page = CompletableFuture.failedFuture(e);
        }
        if (!page.isDone()) {
          page.whenComplete((p, err) -> {
            if (send(p, err)) {
              pump();
            }
          });
          return;
        }
        // A page read without waiting is sent here, in the loop, rather than by recursion.
        GetTreeResponse p = page.getNow(null);
        if (!send(p, null)) {
          return;
        }
      }
    }

    /** Sends a page or the failure; returns whether the walk goes on. */
    private boolean send(GetTreeResponse page, Throwable err) {
      if (finished) {
        return false;
      }
      if (err != null) {
        finished = true;
        responses.onError(GrpcStatuses.exception(err));
        return false;
      }
      responses.onNext(page);
      if (page.getNextPageToken().isEmpty()) {
        finished = true;
        responses.onCompleted();
        return false;
      }
      producing.set(false);
      return true;
    }

    private CompletableFuture<GetTreeResponse> nextPage() {
      GetTreeResponse.Builder page = GetTreeResponse.newBuilder();
      return fill(page, 0)
          .thenApply(
              v ->
                  page.setNextPageToken(pending.isEmpty() ? "" : TreePageToken.encode(root, pending))
                      .build());
    }

    /** Reads directories from the front of the walk into {@code page} until it is full. */
    private CompletableFuture<Void> fill(GetTreeResponse.Builder page, long pageBytes) {
      List<BlobDigest> batch = new ArrayList<>();
      long planned = pageBytes;
      while (batch.size() < READS_IN_FLIGHT
          && page.getDirectoriesCount() + batch.size() < pageSize
          && !pending.isEmpty()) {
        BlobDigest next = pending.peekFirst();
        if (next.size() > MAX_DIRECTORY_BYTES) {
          throw new IllegalArgumentException(
              "directory " + next + " is " + next.size() + " bytes (expected: <= "
                  + MAX_DIRECTORY_BYTES + ", the largest directory GetTree reads)");
        }
        if (page.getDirectoriesCount() + batch.size() > 0 && planned + next.size() > MAX_PAGE_BYTES) {
          break;
        }
        batch.add(pending.pollFirst());
        planned += next.size();
      }
      if (batch.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      boolean isRoot = rootPending;
      rootPending = false;
      List<CompletableFuture<Directory>> reads = new ArrayList<>();
      for (BlobDigest d : batch) {
        reads.add(read(d, isRoot));
      }
      return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
          .thenCompose(
              v -> {
                long bytes = pageBytes;
                for (CompletableFuture<Directory> r : reads) {
                  Directory dir = r.join();
                  if (dir == null) {
                    continue;
                  }
                  page.addDirectories(dir);
                  bytes += dir.getSerializedSize();
                  for (DirectoryNode child : dir.getDirectoriesList()) {
                    visitLater(child);
                  }
                }
                return fill(page, bytes);
              });
    }

    private void visitLater(DirectoryNode child) {
      BlobDigest c;
      try {
        c = digests.resolve(DigestFunctions.valueOf(root.function()), child.getDigest());
      } catch (IllegalArgumentException e) {
        // A child no digest can name is not in the CAS: left out like a missing one.
        return;
      }
      if (seen.contains(c)) {
        return;
      }
      if (seen.size() < MAX_SEEN) {
        seen.add(c);
      }
      if (pending.size() >= MAX_PENDING) {
        throw Status.FAILED_PRECONDITION
            .withDescription(
                "the tree of " + root + " has more than " + MAX_PENDING
                    + " directories waiting to be read at once (the most one walk holds); "
                    + "ask for its subtrees separately")
            .asRuntimeException();
      }
      pending.addLast(c);
    }

    /** The directory at {@code d}, or null when the CAS holds no blob of that digest. */
    private CompletableFuture<Directory> read(BlobDigest d, boolean isRoot) {
      if (d.isEmptyBlob()) {
        return CompletableFuture.completedFuture(Directory.getDefaultInstance());
      }
      return store
          .get(layout.casKey(instance, d.function(), d.hash()), d.size())
          .handle(
              (data, err) -> {
                if (err != null) {
                  StorageException e = StorageException.from(err);
                  if (e.reason() != StorageException.Reason.NOT_FOUND
                      && e.reason() != StorageException.Reason.TOO_LARGE) {
                    throw e;
                  }
                  return absent(d, isRoot);
                }
                if (data.remaining() != d.size()) {
                  return absent(d, isRoot);
                }
                return parse(data, d, isRoot);
              });
    }

    private Directory absent(BlobDigest d, boolean isRoot) {
      if (isRoot) {
        throw Status.NOT_FOUND
            .withDescription("root directory " + d + " is not in the CAS")
            .asRuntimeException();
      }
      return null;
    }

    private Directory parse(ByteBuffer data, BlobDigest d, boolean isRoot) {
      try {
        return Directory.parseFrom(data);
      } catch (InvalidProtocolBufferException e) {
        if (isRoot) {
          throw new IllegalArgumentException(
              "root digest " + d + " names a blob that is not a Directory");
        }
        return null;
      }
    }
  }
}
