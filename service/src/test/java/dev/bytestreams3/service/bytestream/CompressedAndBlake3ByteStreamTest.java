package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import dev.bytestreams3.service.InProcessCache;
import dev.bytestreams3.storage.Blake3;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ByteStream {@code compressed-blobs/zstd} names and BLAKE3 names, as newer clients use them. */
class CompressedAndBlake3ByteStreamTest {

  @TempDir Path dir;
  private InProcessCache cache;
  private ByteStreamClient client;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir.resolve("store"));
    client = new ByteStreamClient(cache.channel());
  }

  @AfterEach
  void stop() {
    cache.close();
  }

  /** Compressible but not trivial: random words from a small vocabulary. */
  private static byte[] text(int n, long seed) {
    String[] words = {"remote ", "cache ", "blob ", "digest ", "action ", "zstd ", "bazel\n"};
    Random r = new Random(seed);
    StringBuilder b = new StringBuilder(n + 16);
    while (b.length() < n) {
      b.append(words[r.nextInt(words.length)]);
    }
    return b.substring(0, n).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static String zstdUpload(byte[] data) {
    return "main/uploads/" + UUID.randomUUID() + "/compressed-blobs/zstd/" + sha256(data) + "/" + data.length;
  }

  private static String zstdBlob(byte[] data) {
    return "main/compressed-blobs/zstd/" + sha256(data) + "/" + data.length;
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
  void zstdWrite_storesUncompressed_compressedReadCountsUncompressedOffsets() throws Exception {
    byte[] data = text(3 * 1024 * 1024 + 5, 1);
    byte[] compressed = Zstd.compress(data, 3);
    assertThat(compressed.length).isLessThan(data.length / 3);

    var r = client.write(chunks(zstdUpload(data), compressed, 0, 16 * 1024, true));
    assertThat(r.getCommittedSize()).isEqualTo(compressed.length);

    assertThat(client.read("main/blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
    byte[] whole = client.read(zstdBlob(data), 0, 0);
    assertThat(whole.length).isLessThan(data.length / 3);
    assertThat(Zstd.decompress(whole, data.length)).isEqualTo(data);
    byte[] tail = client.read(zstdBlob(data), 1_000_000, 0);
    assertThat(Zstd.decompress(tail, data.length - 1_000_000))
        .isEqualTo(Arrays.copyOfRange(data, 1_000_000, data.length));

    // Already stored: the server ends the write at once with committed_size -1.
    assertThat(client.write(chunks(zstdUpload(data), compressed, 0, 16 * 1024, true)).getCommittedSize())
        .isEqualTo(-1);
  }

  @Test
  void zstdRead_withReadLimit_isInvalid_emptyBlobIsAnEmptyFrame() throws Exception {
    byte[] data = text(1000, 2);
    client.write(chunks(zstdUpload(data), Zstd.compress(data), 0, 16 * 1024, true));
    assertStatus(() -> client.read(zstdBlob(data), 0, 10), Status.Code.INVALID_ARGUMENT,
        "read_limit 10 on compressed resource");
    byte[] empty = client.read(zstdBlob(new byte[0]), 0, 0);
    assertThat(Zstd.decompress(empty, 0)).isEmpty();
  }

  @Test
  void zstdWrite_badContent_isInvalidArgument_andNothingIsStored() throws Exception {
    byte[] data = text(200_000, 3);
    byte[] other = text(200_000, 4);
    assertStatus(
        () -> client.write(chunks(zstdUpload(data), Zstd.compress(other), 0, 16 * 1024, true)),
        Status.Code.INVALID_ARGUMENT, "content hashes to sha256:" + sha256(other));
    byte[] longer = text(300_000, 3);
    assertStatus(
        () -> client.write(chunks(zstdUpload(data), Zstd.compress(longer), 0, 16 * 1024, true)),
        Status.Code.INVALID_ARGUMENT, "declares 200000 bytes, but the decompressed data reaches byte");
    byte[] garbage = text(5000, 5);
    assertStatus(
        () -> client.write(chunks(zstdUpload(data), garbage, 0, 1024, true)),
        Status.Code.INVALID_ARGUMENT, "compressed data is not valid zstd");
    byte[] truncated = Arrays.copyOf(Zstd.compress(data), 1000);
    assertStatus(
        () -> client.write(chunks(zstdUpload(data), truncated, 0, 1024, true)),
        Status.Code.INVALID_ARGUMENT, "zstd stream ends inside a frame");
    assertStatus(
        () -> client.read("main/blobs/" + sha256(data) + "/" + data.length, 0, 0),
        Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void zstdWrite_atNonZeroOffset_orUnsupportedCompressor_isInvalid() throws Exception {
    byte[] data = text(100_000, 6);
    byte[] compressed = Zstd.compress(data);
    List<WriteRequest> fromMiddle = chunks(zstdUpload(data), compressed, 100, 1024, true);
    assertStatus(() -> client.write(fromMiddle), Status.Code.INVALID_ARGUMENT,
        "write_offset 100 on compressed upload");
    String deflate = "uploads/" + UUID.randomUUID() + "/compressed-blobs/deflate/" + sha256(data) + "/" + data.length;
    assertStatus(() -> client.write(chunks(deflate, compressed, 0, 1024, true)),
        Status.Code.INVALID_ARGUMENT, "compressor 'deflate' is not supported (supported: identity, zstd)");
  }

  @Test
  void limits_andAllowList_applyToByteStream() throws Exception {
    stop();
    cache =
        InProcessCache.start(
            dir.resolve("limited"), "--max-cas-blob-size-bytes=1000", "--instance-names=main");
    client = new ByteStreamClient(cache.channel());
    byte[] data = text(2000, 9);
    assertStatus(
        () -> client.write(chunks(zstdUpload(data), Zstd.compress(data), 0, 1024, true)),
        Status.Code.INVALID_ARGUMENT, "is 2000 bytes (expected: <= max_cas_blob_size_bytes 1000)");
    assertStatus(
        () -> client.read("other/blobs/" + sha256(data) + "/" + data.length, 0, 0),
        Status.Code.INVALID_ARGUMENT, "instance_name 'other' is not served here (served: 'main')");
  }

  private static String blake3(byte[] data) {
    var h = Blake3.FUNCTION.newHasher();
    h.update(ByteBuffer.wrap(data));
    return HexFormat.of().formatHex(h.digest());
  }

  @Test
  void blake3_interruptedUploadRestartsFromZero_thenVerifiesInFull() throws Exception {
    byte[] data = text(3 * 1024 * 1024, 7);
    String upload = "ci/uploads/" + UUID.randomUUID() + "/blobs/blake3/" + blake3(data) + "/" + data.length;
    // 2 MiB sent without finish_write: a SHA-256 upload would keep what was synced, but a BLAKE3
    // hash state cannot be saved, so nothing counts as committed.
    byte[] half = Arrays.copyOf(data, 2 * 1024 * 1024);
    var partial = client.write(chunks(upload, half, 0, 16 * 1024, false));
    assertThat(partial.getCommittedSize()).isZero();
    assertThat(client.status(upload).getCommittedSize()).isZero();

    assertThat(client.write(chunks(upload, data, 0, 16 * 1024, true)).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(client.read("ci/blobs/blake3/" + blake3(data) + "/" + data.length, 0, 0)).isEqualTo(data);

    byte[] wrong = text(1000, 8);
    String bad = "ci/uploads/" + UUID.randomUUID() + "/blobs/blake3/" + blake3(data) + "/1000";
    assertStatus(() -> client.write(chunks(bad, wrong, 0, 1024, true)), Status.Code.INVALID_ARGUMENT,
        "content hashes to blake3:" + blake3(wrong));
  }
}
