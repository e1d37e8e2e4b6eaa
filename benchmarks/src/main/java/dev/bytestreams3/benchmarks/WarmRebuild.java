package dev.bytestreams3.benchmarks;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Channel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * A synthetic build as a remote cache sees it: actions, each with one input and two small outputs
 * (1 to 16 KiB), one in a hundred with a large output besides. {@link #store} is the cold build
 * that filled the cache; {@link #replay} is the calls of a warm rebuild that finds every action
 * cached: FindMissingBlobs over the inputs in batches, then per action GetActionResult and the
 * reads of its outputs, each byte checked, {@code jobs} actions at a time.
 */
final class WarmRebuild {

  private static final int FIND_BATCH = 500;
  private static final int SMALL_MIN_BYTES = 1 << 10;
  private static final int SMALL_MAX_BYTES = 16 << 10;
  private static final int LARGE_EVERY = 100;
  private static final int WRITE_CHUNK_BYTES = 1 << 20;
  private static final long TIMEOUT_SECONDS = 600;

  /** One cached action: its digest, its input, and the outputs its result names. */
  private record Action(Digest digest, byte[] input, List<byte[]> outputs) {}

  private final List<Action> actions;
  private final int jobs;

  private WarmRebuild(List<Action> actions, int jobs) {
    this.actions = actions;
    this.jobs = jobs;
  }

  /** A build of {@code count} actions, large outputs of {@code largeBytes}, replayed {@code jobs} at a time. */
  static WarmRebuild generate(int count, int largeBytes, int jobs, long seed) {
    Random random = new Random(seed);
    List<Action> actions = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] action = ("action " + i + " of build " + seed).getBytes(StandardCharsets.UTF_8);
      List<byte[]> outputs = new ArrayList<>();
      outputs.add(bytes(random, small(random)));
      outputs.add(bytes(random, small(random)));
      if (i % LARGE_EVERY == LARGE_EVERY - 1) {
        outputs.add(bytes(random, largeBytes));
      }
      actions.add(new Action(digestOf(action), bytes(random, small(random)), outputs));
    }
    return new WarmRebuild(actions, jobs);
  }

  private static int small(Random random) {
    return SMALL_MIN_BYTES + random.nextInt(SMALL_MAX_BYTES - SMALL_MIN_BYTES + 1);
  }

  private static byte[] bytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  int actions() {
    return actions.size();
  }

  /** Outputs read by one replay. */
  int outputs() {
    return actions.stream().mapToInt(a -> a.outputs().size()).sum();
  }

  /** Bytes of output read by one replay. */
  long outputBytes() {
    return actions.stream().flatMap(a -> a.outputs().stream()).mapToLong(b -> b.length).sum();
  }

  int largeOutputs() {
    return actions.size() / LARGE_EVERY;
  }

  /** The cold build: every input and output written, then every action's result recorded. */
  void store(Channel channel) throws Exception {
    ByteStreamClient client = new ByteStreamClient(channel);
    List<byte[]> blobs = new ArrayList<>();
    for (Action a : actions) {
      blobs.add(a.input());
      blobs.addAll(a.outputs());
    }
    ConcurrentRun.run(
        blobs.size(),
        jobs,
        i -> {
          byte[] b = blobs.get(i);
          return client.write(Blobs.uploadName(b), b, Math.min(b.length, WRITE_CHUNK_BYTES));
        },
        TIMEOUT_SECONDS);
    ActionCacheGrpc.ActionCacheFutureStub ac = ActionCacheGrpc.newFutureStub(channel);
    ConcurrentRun.run(
        actions.size(),
        jobs,
        i -> {
          Action a = actions.get(i);
          ActionResult.Builder result = ActionResult.newBuilder().setExitCode(0);
          for (int j = 0; j < a.outputs().size(); j++) {
            result.addOutputFiles(
                OutputFile.newBuilder()
                    .setPath("out/" + i + "/" + j)
                    .setDigest(digestOf(a.outputs().get(j))));
          }
          return completable(
              ac.updateActionResult(
                  UpdateActionResultRequest.newBuilder()
                      .setActionDigest(a.digest())
                      .setActionResult(result)
                      .build()));
        },
        TIMEOUT_SECONDS);
  }

  /** The warm rebuild's calls, all of them answered and every byte checked; returns its seconds. */
  double replay(Channel channel) throws Exception {
    ByteStreamClient client = new ByteStreamClient(channel);
    ContentAddressableStorageGrpc.ContentAddressableStorageFutureStub cas =
        ContentAddressableStorageGrpc.newFutureStub(channel);
    ActionCacheGrpc.ActionCacheFutureStub ac = ActionCacheGrpc.newFutureStub(channel);
    long start = System.nanoTime();
    int batches = (actions.size() + FIND_BATCH - 1) / FIND_BATCH;
    ConcurrentRun.run(
        batches,
        jobs,
        b -> {
          FindMissingBlobsRequest.Builder r = FindMissingBlobsRequest.newBuilder();
          for (int i = b * FIND_BATCH; i < Math.min(actions.size(), (b + 1) * FIND_BATCH); i++) {
            r.addBlobDigests(digestOf(actions.get(i).input()));
          }
          return completable(cas.findMissingBlobs(r.build()))
              .thenAccept(
                  answer -> {
                    if (answer.getMissingBlobDigestsCount() != 0) {
                      throw new IllegalStateException(
                          answer.getMissingBlobDigestsCount() + " inputs of a cached build missing");
                    }
                  });
        },
        TIMEOUT_SECONDS);
    ConcurrentRun.run(
        actions.size(),
        jobs,
        i -> {
          Action a = actions.get(i);
          return completable(
                  ac.getActionResult(
                      GetActionResultRequest.newBuilder().setActionDigest(a.digest()).build()))
              .thenCompose(
                  result -> {
                    if (result.getOutputFilesCount() != a.outputs().size()) {
                      throw new IllegalStateException(
                          "action " + i + ": " + result.getOutputFilesCount() + " outputs, expected "
                              + a.outputs().size());
                    }
                    List<CompletableFuture<Long>> reads = new ArrayList<>();
                    for (byte[] out : a.outputs()) {
                      reads.add(client.read(Blobs.readName(out), out));
                    }
                    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
                  });
        },
        TIMEOUT_SECONDS);
    return (System.nanoTime() - start) / 1e9;
  }

  private static Digest digestOf(byte[] data) {
    return Digest.newBuilder().setHash(Blobs.sha256(data)).setSizeBytes(data.length).build();
  }

  private static <T> CompletableFuture<T> completable(ListenableFuture<T> f) {
    CompletableFuture<T> c = new CompletableFuture<>();
    Futures.addCallback(
        f,
        new FutureCallback<T>() {
          @Override
          public void onSuccess(T value) {
            c.complete(value);
          }

          @Override
          public void onFailure(Throwable t) {
            c.completeExceptionally(t);
          }
        },
        MoreExecutors.directExecutor());
    return c;
  }
}
