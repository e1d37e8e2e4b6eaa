package dev.bytestreams3.service.actioncache;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.HashFunction;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Fills in the contents a GetActionResult caller asked to have inlined (stdout, stderr, listed
 * output files) in that order, as long as they fit together under the inline limit; what does not
 * fit is left for the client to download by digest, as the API allows.
 */
final class Inliner {

  private final BlobStore store;
  private final KeyLayout layout;
  private final long limitBytes;

  Inliner(BlobStore store, KeyLayout layout, long limitBytes) {
    this.store = store;
    this.layout = layout;
    this.limitBytes = limitBytes;
  }

  CompletableFuture<ActionResult> inline(
      String instance, HashFunction function, GetActionResultRequest request, ActionResult result) {
    ActionResult.Builder b = result.toBuilder();
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    List<Runnable> fills = new ArrayList<>();
    long[] left = {limitBytes};
    if (request.getInlineStdout() && result.hasStdoutDigest() && result.getStdoutRaw().isEmpty()) {
      fetch(instance, function, result.getStdoutDigest(), left, reads, fills, b::setStdoutRaw);
    }
    if (request.getInlineStderr() && result.hasStderrDigest() && result.getStderrRaw().isEmpty()) {
      fetch(instance, function, result.getStderrDigest(), left, reads, fills, b::setStderrRaw);
    }
    Set<String> paths = new HashSet<>(request.getInlineOutputFilesList());
    for (int i = 0; i < result.getOutputFilesCount(); i++) {
      OutputFile f = result.getOutputFiles(i);
      if (paths.contains(f.getPath()) && f.getContents().isEmpty()) {
        int index = i;
        fetch(
            instance, function, f.getDigest(), left, reads, fills,
            data -> b.setOutputFiles(index, b.getOutputFiles(index).toBuilder().setContents(data)));
      }
    }
    // The builder is filled on one thread, once every read is in.
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              reads.forEach(CompletableFuture::join);
              fills.forEach(Runnable::run);
              return b.build();
            });
  }

  private void fetch(
      String instance,
      HashFunction function,
      Digest digest,
      long[] left,
      List<CompletableFuture<Void>> reads,
      List<Runnable> fills,
      Consumer<ByteString> into) {
    long size = digest.getSizeBytes();
    if (size <= 0 || size > left[0]) {
      return;
    }
    left[0] -= size;
    reads.add(
        store
            .get(layout.casKey(instance, function, digest.getHash()), size)
            .thenAccept(
                data -> {
                  ByteString bytes = ByteString.copyFrom(data);
                  synchronized (fills) {
                    fills.add(() -> into.accept(bytes));
                  }
                }));
  }
}
