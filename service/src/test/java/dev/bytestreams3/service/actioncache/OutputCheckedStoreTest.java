package dev.bytestreams3.service.actioncache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.OutputFile;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.ExistenceCachedStore;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output-checking store over a real local store and the existence cache. */
class OutputCheckedStoreTest {

  @TempDir Path dir;
  private final KeyLayout layout = new KeyLayout();
  private LocalBlobStore local;
  private ExistenceCachedStore existence;
  private OutputCheckedStore store;

  @BeforeEach
  void open() {
    local = new LocalBlobStore(dir, 1 << 20, 2);
    existence = new ExistenceCachedStore(local, 100, 4, Duration.ofHours(1), Clock.systemUTC());
    store = new OutputCheckedStore(existence, layout, CacheServer.digestFunctions());
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  private static Digest digest(byte[] data) throws Exception {
    return Digest.newBuilder()
        .setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)))
        .setSizeBytes(data.length)
        .build();
  }

  private static byte[] bytesOf(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }

  @Test
  void actionResult_namingABlobTheCasLacks_isNotFound_untilTheBlobIsStored() throws Exception {
    byte[] output = "the output".getBytes(StandardCharsets.UTF_8);
    Digest out = digest(output);
    byte[] result =
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("o").setDigest(out))
            .build()
            .toByteArray();
    BlobKey key = layout.actionResultKey("main", Sha256.FUNCTION, "aa11");
    await(store.put(key, ByteBuffer.wrap(result)));

    assertThatThrownBy(() -> await(store.get(key, 1 << 20)))
        .satisfies(
            e -> {
              StorageException s = StorageException.from(e);
              assertThat(s.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
              assertThat(OutputCheckedStore.missingOutputs(s))
                  .contains(
                      "1 missing blob(s), first sha256:" + out.getHash() + "/" + output.length
                          + ", which the CAS no longer holds");
            });

    await(store.put(layout.casKey("main", Sha256.FUNCTION, out.getHash()), ByteBuffer.wrap(output)));
    assertThat(bytesOf(await(store.get(key, 1 << 20)))).isEqualTo(result);
  }

  @Test
  void otherKeys_andUnreadableResults_passThroughUnchanged() throws Exception {
    BlobKey blob = layout.casKey("", Sha256.FUNCTION, "bb22");
    byte[] notAResult = {(byte) 0xff, (byte) 0xff, (byte) 0xff};
    await(store.put(blob, ByteBuffer.wrap(notAResult)));
    assertThat(bytesOf(await(store.get(blob, 100)))).isEqualTo(notAResult);

    BlobKey unreadable = layout.actionResultKey("", Sha256.FUNCTION, "cc33");
    await(store.put(unreadable, ByteBuffer.wrap(notAResult)));
    assertThat(bytesOf(await(store.get(unreadable, 100)))).isEqualTo(notAResult);

    assertThatThrownBy(() -> await(store.get(layout.actionResultKey("", Sha256.FUNCTION, "dd44"), 100)))
        .satisfies(
            e -> {
              StorageException s = StorageException.from(e);
              assertThat(s.reason()).isEqualTo(StorageException.Reason.NOT_FOUND);
              assertThat(OutputCheckedStore.missingOutputs(s)).isEmpty();
            });
  }

  @Test
  void describe_wrapsTheInnerStoresDescription() {
    assertThat(store.describe()).isEqualTo("output-checked(" + existence.describe() + ")");
  }
}
