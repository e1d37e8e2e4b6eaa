package dev.bytestreams3.service.cas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.github.luben.zstd.Zstd;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.storage.ForwardingStore;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client may declare does not decide what the server holds: batch reads capped by their
 * digests and run a few at a time, batch limits on declared sizes, the 5 TiB blob limit, and
 * GetTree reading size-checked directories a few at a time in bounded, resumable pages. Real stubs
 * over the in-process transport, on a local store that reports how it is read.
 */
class CasBoundsTest {

  private static final KeyLayout LAYOUT = new KeyLayout();

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  /** The local store, with the largest read it was asked for and the most reads at once. */
  static final class WatchedStore extends ForwardingStore {
    final AtomicLong largestAllowed = new AtomicLong();
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger peakInFlight = new AtomicInteger();
    volatile long delayMillis;

    WatchedStore(BlobStore inner) {
      super(inner);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(BlobKey key, long maxBytes) {
      largestAllowed.accumulateAndGet(maxBytes, Math::max);
      reads.incrementAndGet();
      peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      CompletableFuture<Void> wait =
          delayMillis == 0
              ? CompletableFuture.completedFuture(null)
              : CompletableFuture.runAsync(
                  () -> {}, CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS));
      return wait.thenCompose(v -> super.get(key, maxBytes))
          .whenComplete((v, e) -> inFlight.decrementAndGet());
    }
  }

  private WatchedStore store;
  private ManagedChannel channel;
  private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;

  private void start(Path storeDir, String... flags) throws Exception {
    LocalBlobStore local = new LocalBlobStore(storeDir, 1024 * 1024, 4);
    store = new WatchedStore(local);
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name);
    for (BindableService s : CacheServer.services(store, ConfigLoader.load(flags, Map.of()))) {
      b.addService(s);
    }
    Server server = b.build().start();
    channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(64 << 20).build();
    ManagedChannel c = channel;
    open.add(local);
    open.add(server::shutdownNow);
    open.add(c::shutdownNow);
    cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
  }

  private void start(String... flags) throws Exception {
    start(dir.resolve("store"), flags);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  static String sha256Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static Digest digest(byte[] data) {
    return Digest.newBuilder().setHash(sha256Hex(data)).setSizeBytes(data.length).build();
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Stores {@code data} under its digest directly in the store, as another replica would. */
  private Digest putRaw(byte[] data) throws Exception {
    store.put(LAYOUT.casKey("", Sha256.FUNCTION, sha256Hex(data)), ByteBuffer.wrap(data)).get(30, TimeUnit.SECONDS);
    return digest(data);
  }

  private Digest putDirectory(Directory d) throws Exception {
    return putRaw(d.toByteArray());
  }

  private List<GetTreeResponse> tree(GetTreeRequest request) {
    List<GetTreeResponse> pages = new ArrayList<>();
    cas.getTree(request).forEachRemaining(pages::add);
    return pages;
  }

  private static List<Directory> directories(List<GetTreeResponse> pages) {
    List<Directory> all = new ArrayList<>();
    pages.forEach(p -> all.addAll(p.getDirectoriesList()));
    return all;
  }

  private static void assertStatus(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(message);
            });
  }

  @Test
  void batchRead_largeBlobNamedWithSizeOne_eachEntryRefused_neverReadPastTheDeclaredSize()
      throws Exception {
    start();
    byte[] big = bytes(8 << 20, 1);
    Digest stored = putRaw(big);
    Digest small = stored.toBuilder().setSizeBytes(1).build();
    BatchReadBlobsRequest.Builder request = BatchReadBlobsRequest.newBuilder();
    for (int i = 0; i < 8; i++) {
      request.addDigests(small);
    }
    // Sixteen such calls at once, as a hostile client would send them.
    var async = ContentAddressableStorageGrpc.newStub(channel);
    List<CompletableFuture<BatchReadBlobsResponse>> calls = new ArrayList<>();
    for (int c = 0; c < 16; c++) {
      CompletableFuture<BatchReadBlobsResponse> f = new CompletableFuture<>();
      async.batchReadBlobs(request.build(), observer(f));
      calls.add(f);
    }
    for (CompletableFuture<BatchReadBlobsResponse> f : calls) {
      BatchReadBlobsResponse r = f.get(60, TimeUnit.SECONDS);
      assertThat(r.getResponsesList()).hasSize(8);
      for (BatchReadBlobsResponse.Response e : r.getResponsesList()) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(e.getStatus().getMessage())
            .isEqualTo(
                "blob " + stored.getHash() + " has more than 1 bytes (expected: 1, the requested size)");
        assertThat(e.getData()).isEmpty();
      }
    }
    assertThat(store.largestAllowed.get()).isEqualTo(1);

    BatchReadBlobsResponse right = cas.batchReadBlobs(
        BatchReadBlobsRequest.newBuilder().addDigests(digest(bytes(100, 2))).build());
    assertThat(right.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
  }

  @Test
  void batchRead_manyBlobs_atMostSixteenStoreReadsAtOnce_allBytesReturned() throws Exception {
    start();
    store.delayMillis = 30;
    BatchReadBlobsRequest.Builder request = BatchReadBlobsRequest.newBuilder();
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      byte[] b = bytes(1000 + i, 100 + i);
      blobs.add(b);
      request.addDigests(putRaw(b));
    }
    BatchReadBlobsResponse r = cas.batchReadBlobs(request.build());
    for (int i = 0; i < 64; i++) {
      assertThat(r.getResponses(i).getStatus().getCode()).isZero();
      assertThat(r.getResponses(i).getData().toByteArray()).isEqualTo(blobs.get(i));
    }
    assertThat(store.reads.get()).isEqualTo(64);
    assertThat(store.peakInFlight.get())
        .isEqualTo(ContentAddressableStorageService.BATCH_READS_IN_FLIGHT);
  }

  @Test
  void batchUpdate_limitCountsDeclaredSizes_notCompressedBytes() throws Exception {
    start();
    byte[] content = new byte[1024];
    byte[] compressed = Zstd.compress(content);
    assertThat(compressed.length).isLessThan(100);
    Digest claimed =
        Digest.newBuilder().setHash(sha256Hex(content)).setSizeBytes(3L << 29).build();
    assertStatus(
        () ->
            cas.batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .addRequests(
                        BatchUpdateBlobsRequest.Request.newBuilder()
                            .setDigest(claimed)
                            .setCompressor(Compressor.Value.ZSTD)
                            .setData(ByteString.copyFrom(compressed)))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "BatchUpdateBlobs carries 1610612736 blob bytes (expected: <= max_batch_total_size_bytes 4194304)");
  }

  @Test
  void batchUpdate_zstdBomb_andShortFrame_areInvalidArgument_perEntry() throws Exception {
    start("--max-batch-total-size-bytes=1073741824");
    byte[] zeros = new byte[64 << 20];
    byte[] bomb = Zstd.compress(zeros);
    byte[] kilobyte = new byte[1024];
    BatchUpdateBlobsResponse r =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(Digest.newBuilder().setHash(sha256Hex(zeros)).setSizeBytes(1000))
                        .setCompressor(Compressor.Value.ZSTD)
                        .setData(ByteString.copyFrom(bomb)))
                .addRequests(
                    // Declares almost 1 GiB, holds 1 KiB: refused without room for a gigabyte.
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(Digest.newBuilder().setHash(sha256Hex(kilobyte)).setSizeBytes((1L << 30) - 4096))
                        .setCompressor(Compressor.Value.ZSTD)
                        .setData(ByteString.copyFrom(Zstd.compress(kilobyte))))
                .build());
    assertThat(r.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(r.getResponses(0).getStatus().getMessage())
        .isEqualTo("compressed data holds more than the digest's 1000 bytes");
    assertThat(r.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(r.getResponses(1).getStatus().getMessage())
        .isEqualTo("compressed data holds 1024 bytes (expected: 1073737728, the digest's size)");
  }

  @Test
  void declaredSizeAboveFiveTebibytes_refused_andTheLimitAdvertised() throws Exception {
    start();
    assertThat(
            CapabilitiesGrpc.newBlockingStub(channel)
                .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                .getCacheCapabilities()
                .getMaxCasBlobSizeBytes())
        .isEqualTo(5497558138880L);
    String resource =
        "uploads/" + UUID.randomUUID() + "/blobs/" + sha256Hex(new byte[] {1}) + "/6597069766656";
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    StreamObserver<WriteRequest> write = ByteStreamGrpc.newStub(channel).write(observer(done));
    write.onNext(
        WriteRequest.newBuilder()
            .setResourceName(resource)
            .setData(ByteString.copyFrom(new byte[] {1}))
            .build());
    assertThatThrownBy(() -> done.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class)
        .cause()
        .satisfies(
            e -> {
              Status s = ((StatusRuntimeException) e).getStatus();
              assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(s.getDescription())
                  .contains("is 6597069766656 bytes (expected: <= max_cas_blob_size_bytes 5497558138880)");
            });
    write.onCompleted();
    assertThatThrownBy(
            () -> ConfigLoader.load(new String[] {"--max-cas-blob-size-bytes=6597069766656"}, Map.of()))
        .hasMessage("--max-cas-blob-size-bytes: 6597069766656 (expected: 1 to 5497558138880)");
  }

  @Test
  void getTree_deepChain_ofThreeThousand_inSeconds() throws Exception {
    start();
    Digest below = null;
    List<Directory> chain = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      Directory.Builder d = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f" + i));
      if (below != null) {
        d.addDirectories(DirectoryNode.newBuilder().setName("d").setDigest(below));
      }
      Directory dir = d.build();
      chain.add(0, dir);
      below = putDirectory(dir);
    }
    long start = System.nanoTime();
    List<GetTreeResponse> pages = tree(GetTreeRequest.newBuilder().setRootDigest(below).build());
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(pages).hasSize(3);
    assertThat(directories(pages)).isEqualTo(chain);
    assertThat(store.reads.get()).isEqualTo(3000);
    assertThat(millis).as("milliseconds for 3,000 levels").isLessThan(30_000);
  }

  /** A directory whose digest names itself: impossible to hash, possible to store unverified. */
  @Test
  void getTree_selfReferencingAndCyclicTrees_end() throws Exception {
    start();
    String selfHash = sha256Hex("self".getBytes());
    Directory self = null;
    long size = 0;
    for (int i = 0; i < 5; i++) {
      self =
          Directory.newBuilder()
              .addDirectories(
                  DirectoryNode.newBuilder()
                      .setName("me")
                      .setDigest(Digest.newBuilder().setHash(selfHash).setSizeBytes(size)))
              .build();
      size = self.getSerializedSize();
    }
    store.put(LAYOUT.casKey("", Sha256.FUNCTION, selfHash), ByteBuffer.wrap(self.toByteArray()))
        .get(30, TimeUnit.SECONDS);
    Digest selfDigest = Digest.newBuilder().setHash(selfHash).setSizeBytes(size).build();
    List<GetTreeResponse> pages = tree(GetTreeRequest.newBuilder().setRootDigest(selfDigest).build());
    assertThat(directories(pages)).containsExactly(self);
    assertThat(pages.get(pages.size() - 1).getNextPageToken()).isEmpty();

    // a -> b -> a, one page per directory.
    String aHash = sha256Hex("a".getBytes());
    String bHash = sha256Hex("b".getBytes());
    Directory a = null;
    Directory b = null;
    long aSize = 0;
    long bSize = 0;
    for (int i = 0; i < 5; i++) {
      a = Directory.newBuilder().addDirectories(DirectoryNode.newBuilder().setName("b")
          .setDigest(Digest.newBuilder().setHash(bHash).setSizeBytes(bSize))).build();
      b = Directory.newBuilder().addDirectories(DirectoryNode.newBuilder().setName("a")
          .setDigest(Digest.newBuilder().setHash(aHash).setSizeBytes(aSize))).build();
      aSize = a.getSerializedSize();
      bSize = b.getSerializedSize();
    }
    store.put(LAYOUT.casKey("", Sha256.FUNCTION, aHash), ByteBuffer.wrap(a.toByteArray())).get(30, TimeUnit.SECONDS);
    store.put(LAYOUT.casKey("", Sha256.FUNCTION, bHash), ByteBuffer.wrap(b.toByteArray())).get(30, TimeUnit.SECONDS);
    pages =
        tree(
            GetTreeRequest.newBuilder()
                .setRootDigest(Digest.newBuilder().setHash(aHash).setSizeBytes(aSize))
                .setPageSize(1)
                .build());
    assertThat(directories(pages)).containsExactly(a, b);
  }

  @Test
  void getTree_childOfAnotherSize_isLeftOut_andReadNoFurtherThanItsDeclaredSize() throws Exception {
    start();
    Directory big =
        Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x".repeat(5000))).build();
    Digest bigDigest = putDirectory(big);
    Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("leaf")).build();
    Directory root =
        Directory.newBuilder()
            .addDirectories(
                DirectoryNode.newBuilder().setName("lies").setDigest(bigDigest.toBuilder().setSizeBytes(10)))
            .addDirectories(DirectoryNode.newBuilder().setName("leaf").setDigest(putDirectory(leaf)))
            .build();
    Digest rootDigest = putDirectory(root);
    assertThat(directories(tree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).build())))
        .containsExactly(root, leaf);
    assertThat(store.largestAllowed.get()).isEqualTo(rootDigest.getSizeBytes());
    assertStatus(
        () -> tree(GetTreeRequest.newBuilder().setRootDigest(bigDigest.toBuilder().setSizeBytes(10)).build()),
        Status.Code.NOT_FOUND, "root directory sha256:" + bigDigest.getHash() + "/10 is not in the CAS");
  }

  @Test
  void getTree_wideLevel_sixteenReadsAtOnce_pagesHeldUnderThreeMebibytes() throws Exception {
    start();
    store.delayMillis = 20;
    Directory.Builder root = Directory.newBuilder();
    List<Directory> children = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      // About 1 MiB each: three fit a page.
      Directory c =
          Directory.newBuilder()
              .addFiles(FileNode.newBuilder().setName(i + "-" + "y".repeat(1_000_000)))
              .build();
      children.add(c);
      root.addDirectories(DirectoryNode.newBuilder().setName("c" + i).setDigest(putDirectory(c)));
    }
    for (int i = 0; i < 100; i++) {
      Directory c = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("small" + i)).build();
      children.add(c);
      root.addDirectories(DirectoryNode.newBuilder().setName("s" + i).setDigest(putDirectory(c)));
    }
    Digest rootDigest = putDirectory(root.build());
    List<GetTreeResponse> pages = tree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).build());
    List<Directory> expected = new ArrayList<>();
    expected.add(root.build());
    expected.addAll(children);
    assertThat(directories(pages)).isEqualTo(expected);
    for (GetTreeResponse p : pages) {
      long bytes = p.getDirectoriesList().stream().mapToLong(Directory::getSerializedSize).sum();
      assertThat(bytes).isLessThanOrEqualTo(TreePages.MAX_PAGE_BYTES);
    }
    assertThat(pages.size()).isGreaterThanOrEqualTo(4);
    assertThat(store.peakInFlight.get()).isEqualTo(TreePages.READS_IN_FLIGHT);
  }

  @Test
  void getTree_tokenContinuesOnAReplicaThatCannotReadTheRoot() throws Exception {
    start();
    List<Directory> leaves = new ArrayList<>();
    Directory.Builder root = Directory.newBuilder();
    for (int i = 0; i < 5; i++) {
      Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("leaf" + i)).build();
      leaves.add(leaf);
      root.addDirectories(DirectoryNode.newBuilder().setName("d" + i).setDigest(putDirectory(leaf)));
    }
    Digest rootDigest = putDirectory(root.build());
    List<GetTreeResponse> pages =
        tree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).setPageSize(2).build());
    assertThat(pages).hasSize(3);
    String token = pages.get(0).getNextPageToken();
    assertThat(token.length()).isLessThan(250);

    // Another replica whose store holds the leaves only: the walk goes on from the token alone.
    stop();
    open.clear();
    start(dir.resolve("replica"));
    for (Directory leaf : leaves) {
      putDirectory(leaf);
    }
    List<GetTreeResponse> rest =
        tree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).setPageSize(2).setPageToken(token).build());
    assertThat(rest).isEqualTo(pages.subList(1, 3));
    assertThat(store.reads.get()).isEqualTo(4);
  }

  @Test
  void getTree_badTokens_areInvalidArgument_withoutRepeatingThem() throws Exception {
    start();
    Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f")).build();
    Digest leafDigest = putDirectory(leaf);
    Directory root =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(leafDigest))
            .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(putDirectory(
                Directory.newBuilder().addFiles(FileNode.newBuilder().setName("g")).build())))
            .build();
    Digest rootDigest = putDirectory(root);
    String token =
        tree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).setPageSize(1).build())
            .get(0)
            .getNextPageToken();
    GetTreeRequest.Builder ask = GetTreeRequest.newBuilder().setRootDigest(rootDigest);
    assertStatus(
        () -> tree(ask.clone().setPageToken("not a token!").build()),
        Status.Code.INVALID_ARGUMENT, "page_token was not issued by this server");
    assertStatus(
        () -> tree(ask.clone().setPageToken(token.substring(0, token.length() - 3)).build()),
        Status.Code.INVALID_ARGUMENT, "page_token was not issued by this server");
    String huge = "A".repeat(1_000_000);
    assertThatThrownBy(() -> tree(ask.clone().setPageToken(huge).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription())
                  .startsWith("page_token is 1000000 characters (expected: <= ")
                  .hasSizeLessThan(200);
            });
    assertStatus(
        () -> tree(GetTreeRequest.newBuilder().setRootDigest(leafDigest).setPageToken(token).build()),
        Status.Code.INVALID_ARGUMENT, "page_token belongs to the tree of another root_digest");
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
