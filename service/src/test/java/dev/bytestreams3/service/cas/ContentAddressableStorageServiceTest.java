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
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import com.github.luben.zstd.Zstd;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.InProcessCache;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.Blake3;
import dev.bytestreams3.storage.Sha256;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CAS and Capabilities services through real stubs over the in-process transport. */
class ContentAddressableStorageServiceTest {

  private static final String EMPTY_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @TempDir Path dir;
  private InProcessCache cache;
  private ContentAddressableStorageBlockingStub cas;

  private void start(String... flags) throws Exception {
    cache = InProcessCache.start(dir.resolve("store"), flags);
    cas = ContentAddressableStorageGrpc.newBlockingStub(cache.channel());
  }

  @AfterEach
  void stop() {
    if (cache != null) {
      cache.close();
    }
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Digest sha256(byte[] data) {
    try {
      return Digest.newBuilder()
          .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
          .setSizeBytes(data.length)
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static Digest blake3(byte[] data) {
    var h = Blake3.FUNCTION.newHasher();
    h.update(ByteBuffer.wrap(data));
    return Digest.newBuilder()
        .setHash(HexFormat.of().formatHex(h.digest()))
        .setSizeBytes(data.length)
        .build();
  }

  private static BatchUpdateBlobsRequest.Request blob(byte[] data) {
    return BatchUpdateBlobsRequest.Request.newBuilder()
        .setDigest(sha256(data))
        .setData(ByteString.copyFrom(data))
        .build();
  }

  private void put(String instance, byte[]... blobs) {
    BatchUpdateBlobsRequest.Builder b = BatchUpdateBlobsRequest.newBuilder().setInstanceName(instance);
    for (byte[] data : blobs) {
      b.addRequests(blob(data));
    }
    for (BatchUpdateBlobsResponse.Response r : cas.batchUpdateBlobs(b.build()).getResponsesList()) {
      assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero();
    }
  }

  private List<Digest> missing(String instance, Digest... digests) {
    return cas.findMissingBlobs(
            FindMissingBlobsRequest.newBuilder()
                .setInstanceName(instance)
                .addAllBlobDigests(List.of(digests))
                .build())
        .getMissingBlobDigestsList();
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(messagePart);
            });
  }

  @Test
  void capabilities_advertiseWhatIsVerifiedAndEnforced() throws Exception {
    start("--max-batch-total-size-bytes=2000000", "--max-cas-blob-size-bytes=1000000000");
    ServerCapabilities c =
        CapabilitiesGrpc.newBlockingStub(cache.channel())
            .getCapabilities(GetCapabilitiesRequest.newBuilder().setInstanceName("any/thing").build());
    assertThat(c.getCacheCapabilities().getDigestFunctionsList())
        .containsExactly(
            DigestFunction.Value.SHA256, DigestFunction.Value.SHA1, DigestFunction.Value.MD5,
            DigestFunction.Value.SHA384, DigestFunction.Value.SHA512, DigestFunction.Value.BLAKE3);
    assertThat(c.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled()).isTrue();
    assertThat(c.getCacheCapabilities().getMaxBatchTotalSizeBytes()).isEqualTo(2_000_000);
    assertThat(c.getCacheCapabilities().getMaxCasBlobSizeBytes()).isEqualTo(1_000_000_000);
    assertThat(c.getCacheCapabilities().getSupportedCompressorsList()).containsExactly(Compressor.Value.ZSTD);
    assertThat(c.getCacheCapabilities().getSupportedBatchUpdateCompressorsList())
        .containsExactly(Compressor.Value.ZSTD);
    assertThat(c.getCacheCapabilities().getSymlinkAbsolutePathStrategy())
        .isEqualTo(SymlinkAbsolutePathStrategy.Value.ALLOWED);
    assertThat(c.getLowApiVersion().getMajor()).isEqualTo(2);
    assertThat(c.getLowApiVersion().getMinor()).isZero();
    assertThat(c.getHighApiVersion().getMajor()).isEqualTo(2);
    assertThat(c.hasExecutionCapabilities()).isFalse();
  }

  @Test
  void capabilities_readOnlyActionCache_andAllowList() throws Exception {
    start("--action-cache-read-only=true", "--instance-names=,main,ci/linux");
    var caps = CapabilitiesGrpc.newBlockingStub(cache.channel());
    assertThat(
            caps.getCapabilities(GetCapabilitiesRequest.newBuilder().setInstanceName("ci/linux").build())
                .getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled())
        .isFalse();
    assertThat(caps.getCapabilities(GetCapabilitiesRequest.getDefaultInstance()).hasCacheCapabilities())
        .isTrue();
    assertStatus(
        () -> caps.getCapabilities(GetCapabilitiesRequest.newBuilder().setInstanceName("other").build()),
        Status.Code.INVALID_ARGUMENT,
        "instance_name 'other' is not served here (served: '' (unnamed), 'ci/linux', 'main')");
    assertStatus(() -> missing("ci/mac", sha256(new byte[] {1})), Status.Code.INVALID_ARGUMENT,
        "instance_name 'ci/mac' is not served here");
  }

  @Test
  void findMissing_reportsAbsentBlobs_emptyBlobAlwaysPresent_instancesSeparate() throws Exception {
    start();
    byte[] a = bytes(100, 1);
    byte[] b = bytes(200, 2);
    put("main", a);
    Digest empty = Digest.newBuilder().setHash(EMPTY_SHA256).setSizeBytes(0).build();
    assertThat(missing("main", sha256(a), sha256(b), empty)).containsExactly(sha256(b));
    assertThat(missing("other/instance", sha256(a), empty)).containsExactly(sha256(a));
  }

  @Test
  void findMissing_rightHashWrongSize_isMissing_beforeAndAfterTheBlobIsKnown() throws Exception {
    start();
    byte[] a = bytes(100, 1);
    Digest wrongSize = sha256(a).toBuilder().setSizeBytes(99).build();
    byte[] b = bytes(300, 3);
    Digest bWrongSize = sha256(b).toBuilder().setSizeBytes(301).build();
    // b is stored by another server: this one learns of it only from the store.
    cache
        .store()
        .put(
            new KeyLayout().casKey("main", Sha256.FUNCTION, sha256(b).getHash()),
            ByteBuffer.wrap(b))
        .get();
    int before = cache.store().existenceRequests();
    assertThat(missing("main", bWrongSize, sha256(b))).containsExactly(bWrongSize);
    // Both digests name one key: one store request; then the size is known.
    assertThat(cache.store().existenceRequests() - before).isEqualTo(1);
    assertThat(missing("main", sha256(b), bWrongSize)).containsExactly(bWrongSize);
    assertThat(cache.store().existenceRequests() - before).isEqualTo(1);
    put("main", a);
    // a was written here and is remembered with its size.
    assertThat(missing("main", wrongSize)).containsExactly(wrongSize);
    assertThat(missing("main", sha256(a), wrongSize)).containsExactly(wrongSize);
  }

  @Test
  void findMissing_manyDigests_boundedStoreConcurrency_thenAnsweredFromExistenceCache()
      throws Exception {
    start("--existence-checks-in-flight=4");
    List<Digest> digests = new ArrayList<>();
    List<byte[]> present = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      byte[] data = bytes(64, 1000 + i);
      digests.add(sha256(data));
      if (i % 2 == 0) {
        present.add(data);
      }
    }
    put("", present.toArray(byte[][]::new));
    FindMissingBlobsRequest request =
        FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests).build();
    int before = cache.store().existenceRequests();
    List<Digest> missing = cas.findMissingBlobs(request).getMissingBlobDigestsList();
    assertThat(missing).hasSize(250).doesNotContainAnyElementsOf(present.stream().map(d -> sha256(d)).toList());
    // Blobs written through this server were remembered: only the 250 others were checked.
    assertThat(cache.store().existenceRequests() - before).isEqualTo(250);
    assertThat(cache.store().peakExistenceRequestsInFlight()).isBetween(1, 4);

    int second = cache.store().existenceRequests();
    assertThat(cas.findMissingBlobs(request).getMissingBlobDigestsList()).hasSize(250);
    assertThat(cache.store().existenceRequests() - second).isEqualTo(250);
  }

  @Test
  void findMissing_badDigests_areInvalidArgument() throws Exception {
    start();
    assertStatus(
        () -> missing("", Digest.newBuilder().setHash("xyz").setSizeBytes(1).build()),
        Status.Code.INVALID_ARGUMENT, "has a hash of 3 characters, which matches no digest function");
    assertStatus(
        () -> missing("", Digest.newBuilder().setHash(EMPTY_SHA256.toUpperCase()).setSizeBytes(1).build()),
        Status.Code.INVALID_ARGUMENT, "expected: 64 lower-case hex digits for sha256");
    assertStatus(
        () -> missing("", Digest.newBuilder().setHash(EMPTY_SHA256).setSizeBytes(-5).build()),
        Status.Code.INVALID_ARGUMENT, "size_bytes -5 (expected: >= 0)");
    assertStatus(
        () ->
            cas.findMissingBlobs(
                FindMissingBlobsRequest.newBuilder()
                    .setDigestFunction(DigestFunction.Value.VSO)
                    .addBlobDigests(sha256(new byte[] {1}))
                    .build()),
        Status.Code.INVALID_ARGUMENT, "digest_function VSO is not supported by this server");
    assertStatus(
        () -> missing("a/blobs/b", sha256(new byte[] {1})),
        Status.Code.INVALID_ARGUMENT, "instance_name 'a/blobs/b' has reserved word 'blobs'");
  }

  @Test
  void batchUpdate_perBlobStatus_verifiesDigest_andReadsBack() throws Exception {
    start();
    byte[] good = bytes(1000, 3);
    byte[] other = bytes(1000, 4);
    BatchUpdateBlobsResponse r =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .addRequests(blob(good))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(good))
                        .setData(ByteString.copyFrom(other)))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(other).toBuilder().setSizeBytes(999))
                        .setData(ByteString.copyFrom(other)))
                .addRequests(blob(other).toBuilder().setCompressor(Compressor.Value.DEFLATE))
                .build());
    assertThat(r.getResponsesList()).extracting(x -> Status.fromCodeValue(x.getStatus().getCode()).getCode())
        .containsExactly(
            Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.INVALID_ARGUMENT,
            Status.Code.INVALID_ARGUMENT);
    assertThat(r.getResponses(1).getStatus().getMessage()).startsWith("blob data hashes to sha256:");
    assertThat(r.getResponses(2).getStatus().getMessage()).contains("has 1000 bytes (expected: 999)");
    assertThat(r.getResponses(3).getStatus().getMessage())
        .contains("compressor DEFLATE", "is not supported (supported: IDENTITY, ZSTD)");

    BatchReadBlobsResponse read =
        cas.batchReadBlobs(
            BatchReadBlobsRequest.newBuilder().addDigests(sha256(good)).addDigests(sha256(other)).build());
    assertThat(read.getResponses(0).getData().toByteArray()).isEqualTo(good);
    assertThat(read.getResponses(0).getStatus().getCode()).isZero();
    assertThat(read.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
    assertThat(read.getResponses(1).getData().isEmpty()).isTrue();
  }

  @Test
  void batch_zstdBothWays() throws Exception {
    start();
    byte[] data = new byte[300_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) ("abcdefgh".charAt(i % 8) + (i / 5000) % 3);
    }
    byte[] compressed = Zstd.compress(data);
    assertThat(compressed.length).isLessThan(data.length / 10);
    BatchUpdateBlobsResponse up =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(data))
                        .setData(ByteString.copyFrom(compressed))
                        .setCompressor(Compressor.Value.ZSTD))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(new byte[] {9, 9}))
                        .setData(ByteString.copyFrom(new byte[] {1, 2, 3}))
                        .setCompressor(Compressor.Value.ZSTD))
                .build());
    assertThat(up.getResponses(0).getStatus().getCode()).isZero();
    assertThat(up.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(up.getResponses(1).getStatus().getMessage()).contains("not valid zstd");

    BatchReadBlobsResponse.Response read =
        cas.batchReadBlobs(
                BatchReadBlobsRequest.newBuilder()
                    .addDigests(sha256(data))
                    .addAcceptableCompressors(Compressor.Value.ZSTD)
                    .build())
            .getResponses(0);
    assertThat(read.getCompressor()).isEqualTo(Compressor.Value.ZSTD);
    assertThat(read.getData().size()).isLessThan(data.length / 10);
    assertThat(Zstd.decompress(read.getData().toByteArray(), data.length)).isEqualTo(data);
  }

  @Test
  void batch_overTheLimits_isInvalidArgument() throws Exception {
    start("--max-batch-total-size-bytes=10000", "--max-cas-blob-size-bytes=5000");
    assertStatus(
        () -> put("", bytes(6000, 1), bytes(6000, 2)),
        Status.Code.INVALID_ARGUMENT,
        "BatchUpdateBlobs carries 12000 blob bytes (expected: <= max_batch_total_size_bytes 10000)");
    assertStatus(
        () ->
            cas.batchReadBlobs(
                BatchReadBlobsRequest.newBuilder()
                    .addDigests(sha256(bytes(6000, 1)))
                    .addDigests(sha256(bytes(6000, 2)))
                    .build()),
        Status.Code.INVALID_ARGUMENT, "BatchReadBlobs carries 12000 blob bytes");
    BatchUpdateBlobsResponse r =
        cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().addRequests(blob(bytes(6000, 3))).build());
    assertThat(r.getResponses(0).getStatus().getMessage())
        .contains("is 6000 bytes (expected: <= max_cas_blob_size_bytes 5000)");
  }

  @Test
  void blake3_namedDigestFunction_verifiedAndStoredApart() throws Exception {
    start();
    byte[] data = bytes(5000, 7);
    Digest d = blake3(data);
    assertThat(blake3(new byte[0]).getHash())
        .isEqualTo("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    BatchUpdateBlobsResponse r =
        cas.batchUpdateBlobs(
            BatchUpdateBlobsRequest.newBuilder()
                .setDigestFunction(DigestFunction.Value.BLAKE3)
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder().setDigest(d).setData(ByteString.copyFrom(data)))
                .addRequests(
                    BatchUpdateBlobsRequest.Request.newBuilder()
                        .setDigest(sha256(data))
                        .setData(ByteString.copyFrom(data)))
                .build());
    assertThat(r.getResponses(0).getStatus().getCode()).isZero();
    assertThat(r.getResponses(1).getStatus().getMessage()).startsWith("blob data hashes to blake3:");
    FindMissingBlobsRequest.Builder asBlake3 =
        FindMissingBlobsRequest.newBuilder().setDigestFunction(DigestFunction.Value.BLAKE3).addBlobDigests(d);
    assertThat(cas.findMissingBlobs(asBlake3.build()).getMissingBlobDigestsList()).isEmpty();
    // Without the function named, a 64-digit hash is SHA-256, which this blob is not stored as.
    assertThat(missing("", d)).containsExactly(d);
  }

  private Digest putDirectory(Directory d) {
    byte[] bytes = d.toByteArray();
    put("", bytes);
    return sha256(bytes);
  }

  @Test
  void getTree_pagesThroughWhatExists_missingRootIsNotFound() throws Exception {
    start();
    Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f").setDigest(sha256(new byte[] {1}))).build();
    Digest leafDigest = putDirectory(leaf);
    Directory absent = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("gone")).build();
    Digest absentDigest = sha256(absent.toByteArray());
    List<Directory> middles = new ArrayList<>();
    Directory.Builder root = Directory.newBuilder();
    for (int i = 0; i < 5; i++) {
      Directory m =
          Directory.newBuilder()
              .addDirectories(DirectoryNode.newBuilder().setName("leaf").setDigest(leafDigest))
              .addFiles(FileNode.newBuilder().setName("n" + i))
              .build();
      middles.add(m);
      root.addDirectories(DirectoryNode.newBuilder().setName("m" + i).setDigest(putDirectory(m)));
    }
    root.addDirectories(DirectoryNode.newBuilder().setName("absent").setDigest(absentDigest));
    Digest rootDigest = putDirectory(root.build());

    Iterator<GetTreeResponse> pages =
        cas.getTree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).setPageSize(3).build());
    List<GetTreeResponse> all = new ArrayList<>();
    pages.forEachRemaining(all::add);
    // root, 5 middles, the shared leaf once; the absent directory is left out.
    assertThat(all).hasSize(3);
    assertThat(all.get(0).getDirectoriesList()).containsExactly(root.build(), middles.get(0), middles.get(1));
    assertThat(all.get(2).getDirectoriesList()).containsExactly(leaf);
    assertThat(all.get(2).getNextPageToken()).isEmpty();

    List<GetTreeResponse> rest = new ArrayList<>();
    cas.getTree(
            GetTreeRequest.newBuilder()
                .setRootDigest(rootDigest)
                .setPageSize(3)
                .setPageToken(all.get(0).getNextPageToken())
                .build())
        .forEachRemaining(rest::add);
    assertThat(rest).isEqualTo(all.subList(1, 3));

    assertStatus(
        () -> cas.getTree(GetTreeRequest.newBuilder().setRootDigest(absentDigest).build()).next(),
        Status.Code.NOT_FOUND, "root directory sha256:" + absentDigest.getHash());
    assertStatus(
        () ->
            cas.getTree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).setPageToken("x").build())
                .next(),
        Status.Code.INVALID_ARGUMENT, "page_token was not issued by this server");
  }
}
