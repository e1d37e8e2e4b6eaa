package dev.bytestreams3.service.actioncache;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bytestreams3.service.cas.BlobPresence;
import dev.bytestreams3.service.cas.StoredBlob;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.service.resource.DigestFunctions;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.HashFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Checks that every blob an action result refers to is in the CAS: output files, standard output
 * and error, each output directory's Tree and every file inside those trees.
 */
final class OutputCheck {

  /**
   * The largest Tree blob read to check the files it names; an action result whose output
   * directory has a larger Tree is not served (its files cannot be checked without holding it).
   */
  static final long MAX_TREE_BYTES = 16L << 20;

  private final BlobStore store;
  private final KeyLayout layout;
  private final BlobPresence presence;
  private final DigestFunctions digests;

  OutputCheck(BlobStore store, KeyLayout layout, BlobPresence presence, DigestFunctions digests) {
    this.store = store;
    this.layout = layout;
    this.presence = presence;
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
                  .thenCompose(files -> firstMissing(instance, files));
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
    return presence
        .missing(keys.keySet())
        .thenApply(
            missing ->
                missing.isEmpty()
                    ? Optional.empty()
                    : Optional.of(
                        missing.size() + " missing blob(s), first "
                            + keys.get(missing.iterator().next())
                            + ", which the CAS no longer holds"));
  }

  private CompletableFuture<List<BlobDigest>> treeFiles(
      String instance, HashFunction function, ActionResult result) {
    List<CompletableFuture<List<BlobDigest>>> each = new ArrayList<>();
    for (OutputDirectory out : result.getOutputDirectoriesList()) {
      BlobDigest tree = resolve(digests, function, out.getTreeDigest(), "output directory");
      if (tree.isEmptyBlob()) {
        continue;
      }
      each.add(
          store
              .get(layout.casKey(instance, tree.function(), tree.hash()), tree.size())
              .thenApply(
                  data -> {
                    try {
                      return filesOf(function, Tree.parseFrom(data));
                    } catch (InvalidProtocolBufferException e) {
                      throw new IllegalArgumentException(
                          "tree " + tree + " of output directory '" + out.getPath()
                              + "' is not a Tree", e);
                    }
                  }));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<BlobDigest> all = new ArrayList<>();
              each.forEach(f -> all.addAll(f.join()));
              return all;
            });
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
