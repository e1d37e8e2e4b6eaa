package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.config.ConfigLoader;
import dev.bytestreams3.service.config.ServerConfig;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ByteStream rules, checked through a real stub over the in-process transport. */
class ByteStreamServiceTest {

  @TempDir Path dir;

  private LocalBlobStore store;
  private Server server;
  private ManagedChannel channel;
  private ByteStreamClient client;

  @BeforeEach
  void start() throws Exception {
    startServer(true);
  }

  private void startServer(boolean objectOverwrite) throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    String serverName = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(serverName);
    ServerConfig config =
        ConfigLoader.load(new String[] {"--object-overwrite=" + objectOverwrite}, Map.of());
    for (BindableService s : CacheServer.services(store, config)) {
      b.addService(s);
    }
    server = b.build().start();
    channel = InProcessChannelBuilder.forName(serverName).build();
    client = new ByteStreamClient(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
    store.close();
  }

  private void restart(boolean objectOverwrite) throws Exception {
    stop();
    startServer(objectOverwrite);
  }

  private static String upload(String instance, byte[] data) {
    return (instance.isEmpty() ? "" : instance + "/") + "uploads/" + UUID.randomUUID() + "/blobs/"
        + sha256(data) + "/" + data.length;
  }

  private static String blob(String instance, byte[] data) {
    return (instance.isEmpty() ? "" : instance + "/") + "blobs/" + sha256(data) + "/" + data.length;
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
  void write_thenRead_returnsTheSameBytes() throws Exception {
    byte[] data = randomBytes(3 * 1024 * 1024 + 17, 1);
    WriteResponse r = client.writeAll(upload("main", data), data);
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read(blob("main", data), 0, 0)).isEqualTo(data);
  }

  @Test
  void read_withOffsetAndLimit_returnsThatRange() throws Exception {
    byte[] data = randomBytes(1_000_000, 2);
    client.writeAll(upload("", data), data);
    assertThat(client.read(blob("", data), 999_000, 0))
        .isEqualTo(Arrays.copyOfRange(data, 999_000, 1_000_000));
    assertThat(client.read(blob("", data), 10, 100)).isEqualTo(Arrays.copyOfRange(data, 10, 110));
    assertThat(client.read(blob("", data), 1_000_000, 0)).isEmpty();
    assertThat(client.read(blob("", data), 999_990, 1000))
        .isEqualTo(Arrays.copyOfRange(data, 999_990, 1_000_000));
  }

  @Test
  void read_outOfBounds_isOutOfRangeOrInvalid() throws Exception {
    byte[] data = randomBytes(100, 3);
    client.writeAll(upload("", data), data);
    assertStatus(() -> client.read(blob("", data), 101, 0), Status.Code.OUT_OF_RANGE, "offset 101");
    assertStatus(() -> client.read(blob("", data), -1, 0), Status.Code.OUT_OF_RANGE, "read_offset -1");
    assertStatus(
        () -> client.read(blob("", data), 0, -5), Status.Code.INVALID_ARGUMENT, "read_limit -5");
  }

  @Test
  void read_missingBlob_isNotFound() {
    byte[] data = randomBytes(100, 4);
    assertStatus(() -> client.read(blob("", data), 0, 0), Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void write_digestMismatch_isInvalidArgumentAndPublishesNothing() throws Exception {
    byte[] data = randomBytes(200_000, 5);
    byte[] other = randomBytes(200_000, 6);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(other) + "/" + other.length;
    assertStatus(() -> client.writeAll(name, data), Status.Code.INVALID_ARGUMENT, "hashes to sha256:" + sha256(data));
    assertStatus(() -> client.read(blob("", other), 0, 0), Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void write_fewerBytesThanDeclared_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(1000, 7);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/2000";
    assertStatus(
        () -> client.writeAll(name, data), Status.Code.INVALID_ARGUMENT, "received 1000 bytes");
  }

  @Test
  void write_moreBytesThanDeclared_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(1000, 8);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/500";
    assertStatus(
        () -> client.writeAll(name, data), Status.Code.INVALID_ARGUMENT, "declares 500 bytes");
  }

  @Test
  void write_wrongOffsetInLaterMessage_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 9);
    String name = upload("", data);
    List<WriteRequest> requests =
        List.of(
            WriteRequest.newBuilder().setResourceName(name).setData(ByteString.copyFrom(data, 0, 50)).build(),
            WriteRequest.newBuilder().setWriteOffset(60).setData(ByteString.copyFrom(data, 50, 50)).setFinishWrite(true).build());
    assertStatus(() -> client.write(requests), Status.Code.INVALID_ARGUMENT, "write_offset 60 (expected: 50");
  }

  @Test
  void write_firstOffsetNotCommittedSize_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 10);
    List<WriteRequest> requests = chunks(upload("", data), data, 40, 30, true);
    assertStatus(
        () -> client.write(requests),
        Status.Code.INVALID_ARGUMENT,
        "write_offset 40 does not match the committed size 0");
  }

  @Test
  void write_requestAfterFinishWrite_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 11);
    List<WriteRequest> requests = new ArrayList<>(chunks(upload("", data), data, 0, 100, true));
    requests.add(WriteRequest.newBuilder().setWriteOffset(100).build());
    assertStatus(() -> client.write(requests), Status.Code.INVALID_ARGUMENT, "after the one with finish_write");
  }

  @Test
  void write_differentResourceNameInLaterMessage_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 12);
    List<WriteRequest> requests = new ArrayList<>(chunks(upload("", data), data, 0, 50, true));
    requests.set(1, requests.get(1).toBuilder().setResourceName("files/other").build());
    assertStatus(() -> client.write(requests), Status.Code.INVALID_ARGUMENT, "differs from this Write's first one");
  }

  @Test
  void write_toReadName_isInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 13);
    assertStatus(() -> client.writeAll(blob("", data), data), Status.Code.INVALID_ARGUMENT, "is not an upload name");
  }

  @Test
  void write_blobAlreadyStored_endsAtOnceWithFullSize() throws Exception {
    byte[] data = randomBytes(100_000, 14);
    client.writeAll(upload("", data), data);
    // Only the first message: the server answers without waiting for the rest.
    WriteResponse r = client.write(chunks(upload("", data), data, 0, 1000, true).subList(0, 1));
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
  }

  @Test
  void write_interruptedThenResumed_fromCommittedSize() throws Exception {
    byte[] data = randomBytes(3_000_000, 15);
    String name = upload("ci/linux", data);
    WriteResponse partial =
        client.write(chunks(name, Arrays.copyOf(data, 2_000_000), 0, 16 * 1024, false));
    assertThat(partial.getCommittedSize()).isEqualTo(2_000_000);
    QueryWriteStatusResponse status = client.status(name);
    assertThat(status.getCommittedSize()).isEqualTo(2_000_000);
    assertThat(status.getComplete()).isFalse();
    assertStatus(() -> client.read(blob("ci/linux", data), 0, 0), Status.Code.NOT_FOUND, "not found");

    WriteResponse done = client.write(chunks(name, data, 2_000_000, 16 * 1024, true));
    assertThat(done.getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read(blob("ci/linux", data), 0, 0)).isEqualTo(data);
    assertThat(client.status(name).getComplete()).isTrue();
  }

  @Test
  void write_resumedFromAnOffsetALatePartOvertook_dropsTheOverlapAndFinishes() throws Exception {
    byte[] data = randomBytes(3_000_000, 30);
    String name = upload("", data);
    client.write(chunks(name, Arrays.copyOf(data, 1_000_000), 0, 16 * 1024, false));
    long queried = client.status(name).getCommittedSize();
    assertThat(queried).isEqualTo(1_000_000);
    // Bytes the client sent before its stream was cut are committed after it asked.
    client.write(chunks(name, Arrays.copyOf(data, 2_000_000), 1_000_000, 16 * 1024, false));
    assertThat(client.status(name).getCommittedSize()).isEqualTo(2_000_000);

    WriteResponse done = client.write(chunks(name, data, (int) queried, 16 * 1024, true));
    assertThat(done.getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read(blob("", data), 0, 0)).isEqualTo(data);
  }

  @Test
  void write_resumedFromBelowTheCommittedSize_stillVerifiesEveryByte() throws Exception {
    byte[] data = randomBytes(1_000_000, 31);
    byte[] corrupt = data.clone();
    corrupt[700_000] ^= 1;
    String name = upload("", data);
    client.write(chunks(name, Arrays.copyOf(data, 600_000), 0, 16 * 1024, false));
    // The resent overlap is dropped, not compared: the wrong byte lies beyond it.
    assertStatus(
        () -> client.write(chunks(name, corrupt, 500_000, 16 * 1024, true)),
        Status.Code.INVALID_ARGUMENT,
        "(expected: sha256:" + sha256(data) + ")");
    assertStatus(() -> client.read(blob("", data), 0, 0), Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void write_firstOffsetAboveTheCommittedSize_isStillInvalid() throws Exception {
    byte[] data = randomBytes(1_000_000, 32);
    String name = upload("", data);
    client.write(chunks(name, Arrays.copyOf(data, 600_000), 0, 16 * 1024, false));
    assertStatus(
        () -> client.write(chunks(name, data, 700_000, 16 * 1024, true)),
        Status.Code.INVALID_ARGUMENT,
        "write_offset 700000 does not match the committed size 600000");
  }

  @Test
  void write_resumedAfterRestart_verifiesTheWholeDigest() throws Exception {
    byte[] data = randomBytes(2_500_000, 16);
    byte[] corrupt = data.clone();
    corrupt[100] ^= 1;
    String name = upload("", data);
    client.write(chunks(name, Arrays.copyOf(corrupt, 1_500_000), 0, 64 * 1024, false));
    restart(true);
    assertThat(client.status(name).getCommittedSize()).isEqualTo(1_500_000);
    // The bytes sent before the restart were wrong; the resumed write must not publish them.
    assertStatus(
        () -> client.write(chunks(name, data, 1_500_000, 64 * 1024, true)),
        Status.Code.INVALID_ARGUMENT,
        "(expected: sha256:" + sha256(data) + ")");
    assertStatus(() -> client.read(blob("", data), 0, 0), Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void write_offsetZeroAfterPartialUpload_startsOver() throws Exception {
    byte[] data = randomBytes(500_000, 17);
    String name = upload("", data);
    client.write(chunks(name, Arrays.copyOf(data, 200_000), 0, 16 * 1024, false));
    WriteResponse r = client.writeAll(name, data);
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read(blob("", data), 0, 0)).isEqualTo(data);
  }

  @Test
  void queryWriteStatus_answersPerTheSpec() throws Exception {
    byte[] data = randomBytes(10, 18);
    QueryWriteStatusResponse unknownUpload = client.status(upload("", data));
    assertThat(unknownUpload.getCommittedSize()).isZero();
    assertThat(unknownUpload.getComplete()).isFalse();
    assertStatus(() -> client.status("files/never-written"), Status.Code.NOT_FOUND, "no write to 'files/never-written'");
    assertStatus(() -> client.status(blob("", data)), Status.Code.INVALID_ARGUMENT, "not an upload name");
    client.writeAll(upload("", data), data);
    QueryWriteStatusResponse finished = client.status(upload("", data));
    assertThat(finished.getCommittedSize()).isEqualTo(10);
    assertThat(finished.getComplete()).isTrue();
  }

  @Test
  void emptyBlob_isAlwaysPresent() throws Exception {
    byte[] empty = new byte[0];
    assertThat(client.read(blob("", empty), 0, 0)).isEmpty();
    WriteResponse r =
        client.write(List.of(WriteRequest.newBuilder().setResourceName(upload("", empty)).setFinishWrite(true).build()));
    assertThat(r.getCommittedSize()).isZero();
    assertThat(client.status(upload("x", empty)).getComplete()).isTrue();
  }

  @Test
  void objects_areWrittenReadAndResumedByName() throws Exception {
    byte[] data = randomBytes(300_000, 19);
    String name = "files/photos/cat.jpg";
    assertThat(client.write(chunks(name, Arrays.copyOf(data, 100_000), 0, 8192, false)).getCommittedSize())
        .isEqualTo(100_000);
    assertThat(client.status(name).getCommittedSize()).isEqualTo(100_000);
    client.write(chunks(name, data, 100_000, 8192, true));
    assertThat(client.read(name, 0, 0)).isEqualTo(data);
    QueryWriteStatusResponse s = client.status(name);
    assertThat(s.getComplete()).isTrue();
    assertThat(s.getCommittedSize()).isEqualTo(data.length);
    byte[] replacement = randomBytes(1000, 20);
    client.writeAll(name, replacement);
    assertThat(client.read(name, 0, 0)).isEqualTo(replacement);
  }

  @Test
  void objects_withOverwriteDenied_areAlreadyExists() throws Exception {
    restart(false);
    byte[] data = randomBytes(1000, 21);
    client.writeAll("files/a.txt", data);
    assertStatus(() -> client.writeAll("files/a.txt", data), Status.Code.ALREADY_EXISTS, "'files/a.txt' already exists");
    assertThat(client.read("files/a.txt", 0, 0)).isEqualTo(data);
  }

  @Test
  void badNames_areInvalidArgumentNamingTheProblem() {
    byte[] data = randomBytes(10, 22);
    String hash = sha256(data);
    assertStatus(() -> client.read("files/../etc/passwd", 0, 0), Status.Code.INVALID_ARGUMENT, "'..' segment");
    assertStatus(() -> client.read("files//a", 0, 0), Status.Code.INVALID_ARGUMENT, "empty segment");
    assertStatus(() -> client.read("/files/a", 0, 0), Status.Code.INVALID_ARGUMENT, "empty segment");
    assertStatus(() -> client.read("files/a\nb", 0, 0), Status.Code.INVALID_ARGUMENT, "control character");
    assertStatus(() -> client.read("", 0, 0), Status.Code.INVALID_ARGUMENT, "resource_name is empty");
    assertStatus(() -> client.read("blobs/" + hash.substring(2) + "/10", 0, 0), Status.Code.INVALID_ARGUMENT, "62 hex digits");
    assertStatus(() -> client.read("blobs/" + hash + "/ten", 0, 0), Status.Code.INVALID_ARGUMENT, "size 'ten'");
    assertStatus(() -> client.read("blobs/whirlpool/" + hash + "/10", 0, 0), Status.Code.INVALID_ARGUMENT, "digest function 'whirlpool'");
    assertStatus(() -> client.read("blobs/sha1/" + hash + "/10", 0, 0), Status.Code.INVALID_ARGUMENT, "40 lower-case hex digits for sha1");
    assertStatus(() -> client.read("a/actions/b/blobs/" + hash + "/10", 0, 0), Status.Code.INVALID_ARGUMENT, "reserved word 'actions'");
    assertStatus(() -> client.read("compressed-blobs/lz4/" + hash + "/10", 0, 0), Status.Code.INVALID_ARGUMENT, "unknown compressor 'lz4'");
    assertStatus(() -> client.read("x/".repeat(500) + "a", 0, 0), Status.Code.INVALID_ARGUMENT, "bytes long");
  }

  @Test
  void namedDigestFunctions_areVerified() throws Exception {
    byte[] data = randomBytes(5000, 23);
    String sha1 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(data));
    client.writeAll("inst/uploads/" + UUID.randomUUID() + "/blobs/sha1/" + sha1 + "/5000", data);
    assertThat(client.read("inst/blobs/" + sha1 + "/5000", 0, 0)).isEqualTo(data);
    assertThat(client.read("inst/blobs/sha1/" + sha1 + "/5000", 0, 0)).isEqualTo(data);
  }

  @Test
  void instances_areSeparateNamespaces() throws Exception {
    byte[] data = randomBytes(1000, 24);
    client.writeAll(upload("team-a/linux", data), data);
    assertThat(client.read(blob("team-a/linux", data), 0, 0)).isEqualTo(data);
    assertStatus(() -> client.read(blob("team-b", data), 0, 0), Status.Code.NOT_FOUND, "not found");
  }
}
