package dev.bytestreams3.service.actioncache;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.cas.StoredBlob;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.HashFunction;
import dev.bytestreams3.storage.StorageException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that every blob an action result refers to is in the CAS: output files, standard output
 * and error, each output directory's Tree and every file inside those trees.
 */
final class OutputCheck {

  private static final Logger log = LoggerFactory.getLogger(OutputCheck.class);

  /**
   * The largest Tree blob read to check the files it names; an action result whose output
   * directory has a larger Tree is not served (its files cannot be checked without holding it).
   */
  static final long MAX_TREE_BYTES = 16L << 20;

  private final BlobStore store;
  private final KeyLayout layout;
  private final DigestFunctions digests;

  /**
   * @param store where the blobs are looked for; its existence answers ({@link BlobStore#sizes})
   *     decide, so a store that caches them and touches what it reports present makes the check
   *     cheap and keeps the outputs of a served result alive
   */
  OutputCheck(BlobStore store, KeyLayout layout, DigestFunctions digests) {
    this.store = store;
    this.layout = layout;
    this.digests = digests;
  }

  /**
   * The digests {@code result} refers to directly, validated.
   *
   * @throws IllegalArgumentException naming a malformed digest
   */
  static List<BlobDigest> digestsOf(
      DigestFunctions digests, HashFunction function, ActionResult result) {
    List<BlobDigest> all = new ArrayList<>();
    for (OutputFile f : result.getOutputFilesList()) {
      all.add(resolve(digests, function, f.getDigest(), "output file '" + f.getPath() + "'"));
    }
    for (OutputDirectory d : result.getOutputDirectoriesList()) {
      all.add(resolve(digests, function, d.getTreeDigest(), "output directory '" + d.getPath() + "'"));
    }
    if (result.hasStdoutDigest()) {
      all.add(resolve(digests, function, result.getStdoutDigest(), "stdout_digest"));
    }
    if (result.hasStderrDigest()) {
      all.add(resolve(digests, function, result.getStderrDigest(), "stderr_digest"));
    }
    return all;
  }

  private static BlobDigest resolve(
      DigestFunctions digests, HashFunction function, Digest d, String what) {
    try {
      return digests.resolve(DigestFunctions.valueOf(function), d);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
  }

  /**
   * Completes with why the result may not be served (the first blob missing, or a Tree too large
   * to check), or empty when every blob it names is present.
   */
  CompletableFuture<Optional<String>> missing(
      String instance, HashFunction function, ActionResult result) {
    List<BlobDigest> direct;
    try {
      direct = digestsOf(digests, function, result);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(Optional.of("a malformed digest (" + e.getMessage() + ")"));
    }
    return firstMissing(instance, direct)
        .thenCompose(
            m -> {
              if (m.isPresent() || result.getOutputDirectoriesCount() == 0) {
                return CompletableFuture.completedFuture(m);
              }
              Optional<String> tooLarge = oversizeTree(function, result);
              if (tooLarge.isPresent()) {
                return CompletableFuture.completedFuture(tooLarge);
              }
              return treeFiles(instance, function, result)
                  .thenCompose(
                      t ->
                          t.problem().isPresent()
                              ? CompletableFuture.completedFuture(t.problem())
                              : firstMissing(instance, t.files()));
            });
  }

  /** Describes the first output directory whose Tree is too large to read, if there is one. */
  private Optional<String> oversizeTree(HashFunction function, ActionResult result) {
    for (OutputDirectory out : result.getOutputDirectoriesList()) {
      BlobDigest tree = resolve(digests, function, out.getTreeDigest(), "output directory");
      if (tree.size() > MAX_TREE_BYTES) {
        return Optional.of(
            "the tree " + tree + " of output directory '" + out.getPath() + "', larger than the "
                + MAX_TREE_BYTES + " bytes read to check the files it names");
      }
    }
    return Optional.empty();
  }

  private CompletableFuture<Optional<String>> firstMissing(String instance, List<BlobDigest> ds) {
    Map<StoredBlob, BlobDigest> keys = new LinkedHashMap<>();
    for (BlobDigest d : ds) {
      if (!d.isEmptyBlob()) {
        keys.put(new StoredBlob(layout.casKey(instance, d.function(), d.hash()), d.size()), d);
      }
    }
    List<BlobKey> asked = new ArrayList<>();
    for (StoredBlob b : keys.keySet()) {
      asked.add(b.key());
    }
    return store
        .sizes(asked)
        .thenApply(
            sizes -> {
              List<StoredBlob> missing = new ArrayList<>();
              for (StoredBlob b : keys.keySet()) {
                Long size = sizes.get(b.key());
                if (size == null || size != b.sizeBytes()) {
                  missing.add(b);
                }
              }
              return missing.isEmpty()
                  ? Optional.empty()
                  : Optional.of(
                      missing.size() + " missing blob(s), first " + keys.get(missing.get(0))
                          + ", which the CAS no longer holds");
            });
  }

  /** The files inside an output directory's tree, or why they cannot be known. */
  private record TreeFiles(List<BlobDigest> files, Optional<String> problem) {}

  /**
   * The files inside the trees of {@code result}'s output directories, or the first tree that is
   * gone or does not parse, which makes the result a miss.
   */
  private CompletableFuture<TreeFiles> treeFiles(
      String instance, HashFunction function, ActionResult result) {
    List<CompletableFuture<TreeFiles>> each = new ArrayList<>();
    for (OutputDirectory out : result.getOutputDirectoriesList()) {
      BlobDigest tree = resolve(digests, function, out.getTreeDigest(), "output directory");
      if (tree.isEmptyBlob()) {
        continue;
      }
      String what = "tree " + tree + " of output directory '" + out.getPath() + "'";
      BlobKey key = layout.casKey(instance, tree.function(), tree.hash());
      each.add(
          store
              .get(key, tree.size())
              .handle(
                  (data, err) -> {
                    if (err != null) {
                      StorageException e = StorageException.from(err);
                      if (e.reason() == StorageException.Reason.NOT_FOUND
                          || e.reason() == StorageException.Reason.TOO_LARGE) {
                        return problem(what + ", which the CAS no longer holds");
                      }
                      throw e;
                    }
                    try {
                      return new TreeFiles(filesOf(function, Tree.parseFrom(data)), Optional.empty());
                    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
                      log.warn("{} at {} does not parse ({}); answering a cache miss", what, key, e.getMessage());
                      return problem(what + ", which is not a readable Tree");
                    }
                  }));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<BlobDigest> all = new ArrayList<>();
              for (CompletableFuture<TreeFiles> f : each) {
                TreeFiles t = f.join();
                if (t.problem().isPresent()) {
                  return t;
                }
                all.addAll(t.files());
              }
              return new TreeFiles(all, Optional.empty());
            });
  }

  private static TreeFiles problem(String description) {
    return new TreeFiles(List.of(), Optional.of(description));
  }

  private List<BlobDigest> filesOf(HashFunction function, Tree tree) {
    List<BlobDigest> files = new ArrayList<>();
    List<Directory> dirs = new ArrayList<>();
    dirs.add(tree.getRoot());
    dirs.addAll(tree.getChildrenList());
    for (Directory d : dirs) {
      for (FileNode f : d.getFilesList()) {
        files.add(resolve(digests, function, f.getDigest(), "file '" + f.getName() + "' of a tree"));
      }
    }
    return files;
  }
}
