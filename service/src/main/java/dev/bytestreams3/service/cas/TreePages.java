package dev.bytestreams3.service.cas;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Walks a directory tree breadth-first from its root, level by level with one store read per
 * distinct directory, and cuts it into pages. Directories missing from the CAS are left out with
 * their subtrees (GetTree returns whatever part of the tree exists), and so are directories whose
 * digest names another size than the blob stored under its hash; a missing root is
 * {@code NOT_FOUND}. A page token is the position in the walk where the next page starts, so any
 * replica continues a walk another one began.
 */
final class TreePages {

  static final int DEFAULT_PAGE_SIZE = 1000;
  static final int MAX_PAGE_SIZE = 10_000;
  private static final String TOKEN_PREFIX = "dirs:";

  private final BlobStore store;
  private final DigestFunctions digests;
  private final KeyLayout layout;

  TreePages(BlobStore store, DigestFunctions digests, KeyLayout layout) {
    this.store = store;
    this.digests = digests;
    this.layout = layout;
  }

  CompletableFuture<List<GetTreeResponse>> pages(String instance, GetTreeRequest request) {
    BlobDigest root = digests.resolve(request.getDigestFunction(), request.getRootDigest());
    if (request.getPageSize() < 0) {
      throw new IllegalArgumentException(
          "page_size " + request.getPageSize() + " is negative (expected: >= 0)");
    }
    int pageSize =
        request.getPageSize() == 0
            ? DEFAULT_PAGE_SIZE
            : Math.min(request.getPageSize(), MAX_PAGE_SIZE);
    int start = offset(request.getPageToken());
    Walk walk = new Walk(instance, root);
    return walk.fetch(List.of(root), true)
        .thenApply(
            dirs -> {
              if (start > dirs.size()) {
                throw new IllegalArgumentException(
                    "page_token '" + request.getPageToken() + "' is past the end of the tree ("
                        + dirs.size() + " directories)");
              }
              List<GetTreeResponse> pages = new ArrayList<>();
              int i = start;
              do {
                int end = Math.min(dirs.size(), i + pageSize);
                pages.add(
                    GetTreeResponse.newBuilder()
                        .addAllDirectories(dirs.subList(i, end))
                        .setNextPageToken(end < dirs.size() ? TOKEN_PREFIX + end : "")
                        .build());
                i = end;
              } while (i < dirs.size());
              return pages;
            });
  }

  private static int offset(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      if (token.startsWith(TOKEN_PREFIX)) {
        int n = Integer.parseInt(token.substring(TOKEN_PREFIX.length()));
        if (n >= 0) {
          return n;
        }
      }
    } catch (NumberFormatException e) {
      // Falls through to the message below.
    }
    throw new IllegalArgumentException(
        "page_token '" + token + "' was not issued by this server");
  }

  /** One walk; remembers the directories already seen, so shared subtrees appear once. */
  private final class Walk {
    private final String instance;
    private final BlobDigest root;
    /** Digests already walked, size and all: a hash with a wrong size is not the same directory. */
    private final Set<BlobDigest> seen = new HashSet<>();
    private final List<Directory> found = new ArrayList<>();

    Walk(String instance, BlobDigest root) {
      this.instance = instance;
      this.root = root;
    }

    CompletableFuture<List<Directory>> fetch(List<BlobDigest> level, boolean isRoot) {
      List<CompletableFuture<Directory>> reads = new ArrayList<>();
      for (BlobDigest d : level) {
        reads.add(read(d, isRoot));
      }
      return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
          .thenCompose(
              v -> {
                List<BlobDigest> next = new ArrayList<>();
                for (CompletableFuture<Directory> r : reads) {
                  Directory dir = r.join();
                  if (dir == null) {
                    continue;
                  }
                  found.add(dir);
                  for (DirectoryNode child : dir.getDirectoriesList()) {
                    BlobDigest c = childDigest(child);
                    if (c != null && seen.add(c)) {
                      next.add(c);
                    }
                  }
                }
                if (next.isEmpty()) {
                  return CompletableFuture.completedFuture(found);
                }
                return fetch(next, false);
              });
    }

    private BlobDigest childDigest(DirectoryNode child) {
      try {
        return new BlobDigest(
            root.function(),
            digests.resolve(DigestFunctions.valueOf(root.function()), child.getDigest()).hash(),
            child.getDigest().getSizeBytes());
      } catch (IllegalArgumentException e) {
        return null;
      }
    }

    private CompletableFuture<Directory> read(BlobDigest d, boolean isRoot) {
      if (isRoot) {
        seen.add(d);
      }
      if (d.isEmptyBlob()) {
        return CompletableFuture.completedFuture(Directory.getDefaultInstance());
      }
      return store
          .get(layout.casKey(instance, d.function(), d.hash()))
          .handle(
              (data, err) -> {
                if (err != null) {
                  StorageException e = StorageException.from(err);
                  if (e.reason() != StorageException.Reason.NOT_FOUND) {
                    throw e;
                  }
                  if (isRoot) {
                    throw Status.NOT_FOUND
                        .withDescription("root directory " + d + " is not in the CAS")
                        .asRuntimeException();
                  }
                  return null;
                }
                if (data.remaining() != d.size()) {
                  // Blobs are stored by hash alone: one of another size is not the one named.
                  if (isRoot) {
                    throw Status.NOT_FOUND
                        .withDescription(
                            "root directory " + d + " is not in the CAS (the blob of that hash has "
                                + data.remaining() + " bytes)")
                        .asRuntimeException();
                  }
                  return null;
                }
                try {
                  return Directory.parseFrom(data);
                } catch (InvalidProtocolBufferException e) {
                  if (isRoot) {
                    throw new IllegalArgumentException(
                        "root digest " + d + " names a blob that is not a Directory");
                  }
                  return null;
                }
              });
    }
  }
}
