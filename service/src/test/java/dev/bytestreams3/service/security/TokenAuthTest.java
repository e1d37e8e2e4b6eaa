package dev.bytestreams3.service.security;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.bytestream.ByteStreamClient;
import dev.bytestreams3.service.observe.CallRecorder;
import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.service.observe.LogFormat;
import dev.bytestreams3.service.observe.RpcLog;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens with rights per instance prefix, checked over a real loopback socket. */
class TokenAuthTest {

  private static final String TEAM_A = "team-a-token-0123456789abcdef";
  private static final String TEAM_B = "team-b-token-fedcba9876543210";
  private static final String READER = "reader-token-aaaaaaaaaaaaaaaa";
  private static final String LATER = "later-token-bbbbbbbbbbbbbbbbb";
  private static final List<String> SECRETS = List.of(TEAM_A, TEAM_B, READER, LATER);

  @TempDir Path dir;

  private Path tokenFile;
  private LocalBlobStore store;
  private CacheServer server;
  private ManagedChannel channel;
  private final List<String> logLines = new CopyOnWriteArrayList<>();
  private final List<String> notices = new CopyOnWriteArrayList<>();
  private final List<String> descriptions = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    tokenFile = dir.resolve("tokens");
    Files.writeString(
        tokenFile,
        String.join(
            "\n",
            "# token                          right       prefixes",
            TEAM_A + "   read-write  team-a",
            TEAM_B + "   read-write  team-b",
            "sha256:" + TokenTable.sha256(READER) + " read team-a team-b",
            ""));
    TokenFile tokens = TokenFile.open(tokenFile, notices::add);
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    EventLog events = new EventLog(LogFormat.TEXT, logLines::add, Clock.systemUTC());
    ServerOptions options =
        new ServerOptions(
            java.util.Optional.empty(),
            List.of(
                new CallRecorder(List.of(new RpcLog(events)), Clock.systemUTC()),
                new TokenAuthInterceptor(
                    tokens::table, new ResourceNameParser(CacheServer.digestFunctions()))));
    server = CacheServer.start("127.0.0.1", 0, store, true, options);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdown(Duration.ZERO);
    store.close();
    // No token ever reaches a log line, a notice or a message a client sees.
    for (String secret : SECRETS) {
      assertThat(logLines).noneMatch(l -> l.contains(secret));
      assertThat(notices).noneMatch(l -> l.contains(secret));
      assertThat(descriptions).noneMatch(l -> l.contains(secret));
    }
  }

  private ByteStreamClient as(String token) {
    Metadata m = new Metadata();
    m.put(TokenAuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return new ByteStreamClient(
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m)));
  }

  private static String upload(String instance, byte[] data) {
    return instance + "/uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
  }

  private static String blob(String instance, byte[] data) {
    return (instance.isEmpty() ? "" : instance + "/") + "blobs/" + sha256(data) + "/" + data.length;
  }

  private void assertStatus(ThrowingCallable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              descriptions.add(String.valueOf(e.getStatus().getDescription()));
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).contains(messagePart);
            });
  }

  @Test
  void token_readsAndWritesItsOwnInstance() throws Exception {
    byte[] data = randomBytes(100_000, 1);
    assertThat(as(TEAM_A).writeAll(upload("team-a", data), data).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(as(TEAM_A).read(blob("team-a", data), 0, 0)).isEqualTo(data);
    // Below the prefix, segment by segment.
    assertThat(as(TEAM_A).writeAll(upload("team-a/linux", data), data).getCommittedSize())
        .isEqualTo(data.length);
  }

  @Test
  void token_cannotReadAnotherInstancesBlob() throws Exception {
    byte[] data = randomBytes(50_000, 2);
    as(TEAM_A).writeAll(upload("team-a", data), data);
    assertStatus(
        () -> as(TEAM_B).read(blob("team-a", data), 0, 0),
        Status.Code.PERMISSION_DENIED,
        "the token may not read 'team-a' (google.bytestream.ByteStream/Read)");
    assertStatus(
        () -> as(TEAM_B).status(upload("team-a", data)),
        Status.Code.PERMISSION_DENIED,
        "may not read 'team-a'");
  }

  @Test
  void token_cannotWriteAnotherInstance_andNothingIsStored() throws Exception {
    byte[] data = randomBytes(50_000, 3);
    assertStatus(
        () -> as(TEAM_B).writeAll(upload("team-a", data), data),
        Status.Code.PERMISSION_DENIED,
        "the token may not write 'team-a' (google.bytestream.ByteStream/Write)");
    assertStatus(
        () -> as(TEAM_A).read(blob("team-a", data), 0, 0), Status.Code.NOT_FOUND, "");
  }

  @Test
  void prefix_matchesWholeSegmentsOnly() {
    byte[] data = randomBytes(1000, 4);
    assertStatus(
        () -> as(TEAM_A).writeAll(upload("team-ab", data), data),
        Status.Code.PERMISSION_DENIED,
        "may not write 'team-ab'");
    assertStatus(
        () -> as(TEAM_A).read(blob("", data), 0, 0),
        Status.Code.PERMISSION_DENIED,
        "may not read ''");
  }

  @Test
  void readToken_readsButCannotWrite() throws Exception {
    byte[] data = randomBytes(20_000, 5);
    as(TEAM_B).writeAll(upload("team-b", data), data);
    assertThat(as(READER).read(blob("team-b", data), 0, 0)).isEqualTo(data);
    assertStatus(
        () -> as(READER).writeAll(upload("team-b", data), data),
        Status.Code.PERMISSION_DENIED,
        "the token may not write anything (google.bytestream.ByteStream/Write)");
  }

  @Test
  void missingOrUnknownToken_isUnauthenticated() {
    byte[] data = randomBytes(100, 6);
    ByteStreamClient anonymous = new ByteStreamClient(channel);
    assertStatus(
        () -> anonymous.read(blob("team-a", data), 0, 0),
        Status.Code.UNAUTHENTICATED,
        "no bearer token: send the header 'authorization: Bearer <token>'");
    assertStatus(
        () -> as(TEAM_A + "x").writeAll(upload("team-a", data), data),
        Status.Code.UNAUTHENTICATED,
        "unknown bearer token");
    Metadata basic = new Metadata();
    basic.put(TokenAuthInterceptor.AUTHORIZATION, "Basic " + TEAM_A);
    Channel c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(basic));
    assertStatus(
        () -> new ByteStreamClient(c).read(blob("team-a", data), 0, 0),
        Status.Code.UNAUTHENTICATED,
        "not a bearer token");
  }

  @Test
  void healthCheck_needsNoToken() {
    HealthCheckResponse r =
        HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void malformedResourceName_isInvalidArgument_forAKnownToken() {
    assertStatus(
        () -> as(TEAM_A).read("team-a/blobs/nothex/12", 0, 0),
        Status.Code.INVALID_ARGUMENT,
        "nothex");
  }

  @Test
  void tokenFile_isReloadedWhenItChanges() throws Exception {
    byte[] data = randomBytes(1000, 7);
    assertStatus(
        () -> as(LATER).writeAll(upload("team-c", data), data),
        Status.Code.UNAUTHENTICATED,
        "unknown bearer token");
    Files.writeString(tokenFile, LATER + " read-write team-c\n");
    Files.setLastModifiedTime(tokenFile, FileTime.from(Instant.now().plusSeconds(5)));
    Thread.sleep(TokenFile.CHECK_INTERVAL.toMillis() + 100);
    assertThat(as(LATER).writeAll(upload("team-c", data), data).getCommittedSize())
        .isEqualTo(data.length);
    // The old tokens are gone with the old file.
    assertStatus(
        () -> as(TEAM_A).read(blob("team-a", data), 0, 0),
        Status.Code.UNAUTHENTICATED,
        "unknown bearer token");
    assertThat(notices).anyMatch(n -> n.contains("reloaded: 1 tokens"));
  }

  @Test
  void invalidTokenFile_keepsThePreviousTokens() throws Exception {
    Files.writeString(tokenFile, TEAM_A + " read-everything team-a\n");
    Files.setLastModifiedTime(tokenFile, FileTime.from(Instant.now().plusSeconds(5)));
    Thread.sleep(TokenFile.CHECK_INTERVAL.toMillis() + 100);
    byte[] data = randomBytes(1000, 8);
    assertThat(as(TEAM_A).writeAll(upload("team-a", data), data).getCommittedSize())
        .isEqualTo(data.length);
    assertThat(notices)
        .anyMatch(n -> n.contains("line 1: right 'read-everything' (expected: read or read-write)"));
  }

  @Test
  void everyCall_isLoggedWithoutItsToken() throws Exception {
    byte[] data = randomBytes(1000, 9);
    as(TEAM_A).writeAll(upload("team-a", data), data);
    assertStatus(() -> as(TEAM_B).read(blob("team-a", data), 0, 0), Status.Code.PERMISSION_DENIED, "");
    assertThat(logLines).hasSize(2);
    assertThat(logLines.get(0)).contains("method=google.bytestream.ByteStream/Write", "status=OK");
    assertThat(logLines.get(1))
        .contains("method=google.bytestream.ByteStream/Read", "status=PERMISSION_DENIED",
            "resource=team-a/blobs/");
  }

  @Test
  void twoAuthorizationHeaders_areUnauthenticated_notLastWins() {
    byte[] data = randomBytes(100, 10);
    Metadata two = new Metadata();
    two.put(TokenAuthInterceptor.AUTHORIZATION, "Bearer " + TEAM_B);
    two.put(TokenAuthInterceptor.AUTHORIZATION, "Bearer " + TEAM_A);
    Channel c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(two));
    assertStatus(
        () -> new ByteStreamClient(c).writeAll(upload("team-a", data), data),
        Status.Code.UNAUTHENTICATED,
        "more than one authorization header (expected: exactly one)");
    assertStatus(
        () -> as(TEAM_A).read(blob("team-a", data), 0, 0), Status.Code.NOT_FOUND, "");
  }

  @Test
  void splitBlob_isUnimplemented_forATokenThatMayRead() {
    Metadata m = new Metadata();
    m.put(TokenAuthInterceptor.AUTHORIZATION, "Bearer " + TEAM_A);
    Channel c = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(m));
    var cas =
        build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.newBlockingStub(c);
    assertStatus(
        () ->
            cas.splitBlob(
                build.bazel.remote.execution.v2.SplitBlobRequest.newBuilder()
                    .setInstanceName("team-a")
                    .build()),
        Status.Code.UNIMPLEMENTED,
        "");
    assertStatus(
        () ->
            cas.spliceBlob(
                build.bazel.remote.execution.v2.SpliceBlobRequest.newBuilder()
                    .setInstanceName("team-a")
                    .build()),
        Status.Code.UNIMPLEMENTED,
        "");
    // Without a token it is refused like any other call.
    assertStatus(
        () ->
            build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.newBlockingStub(channel)
                .splitBlob(build.bazel.remote.execution.v2.SplitBlobRequest.getDefaultInstance()),
        Status.Code.UNAUTHENTICATED,
        "no bearer token");
  }
}
