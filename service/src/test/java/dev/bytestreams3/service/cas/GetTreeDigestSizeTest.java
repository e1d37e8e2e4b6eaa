package dev.bytestreams3.service.cas;

import static dev.bytestreams3.service.cas.ContentAddressableStorageServiceTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import dev.bytestreams3.service.InProcessCache;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GetTree counts a directory as present only when the stored blob has the size its digest names. */
class GetTreeDigestSizeTest {

  @TempDir Path dir;

  private InProcessCache cache;
  private ContentAddressableStorageBlockingStub cas;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir);
    cas = ContentAddressableStorageGrpc.newBlockingStub(cache.channel());
  }

  @AfterEach
  void stop() {
    cache.close();
  }

  private Digest put(Directory d) {
    Digest digest = sha256(d.toByteArray());
    cas.batchUpdateBlobs(
        BatchUpdateBlobsRequest.newBuilder()
            .addRequests(
                BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest).setData(d.toByteString()))
            .build());
    return digest;
  }

  private List<Directory> tree(Digest root) {
    List<Directory> all = new ArrayList<>();
    cas.getTree(GetTreeRequest.newBuilder().setRootDigest(root).build())
        .forEachRemaining((GetTreeResponse p) -> all.addAll(p.getDirectoriesList()));
    return all;
  }

  @Test
  void childWithWrongSize_isLeftOutAsMissing_theRightOneIsWalked() {
    Directory child = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f")).build();
    Digest good = put(child);
    Digest wrongSize = good.toBuilder().setSizeBytes(good.getSizeBytes() + 7).build();
    Directory liar =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(wrongSize))
            .build();
    Directory honest =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(wrongSize))
            .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(good))
            .build();

    assertThat(tree(put(liar))).containsExactly(liar);
    assertThat(tree(put(honest))).containsExactly(honest, child);
  }

  @Test
  void rootWithWrongSize_isNotFound() {
    Digest good = put(Directory.newBuilder().addFiles(FileNode.newBuilder().setName("r")).build());
    Digest wrongSize = good.toBuilder().setSizeBytes(good.getSizeBytes() - 1).build();

    assertThatThrownBy(() -> tree(wrongSize))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
              assertThat(e.getStatus().getDescription())
                  .contains("root directory sha256:" + good.getHash() + "/" + wrongSize.getSizeBytes())
                  .contains("is not in the CAS");
            });
  }
}
