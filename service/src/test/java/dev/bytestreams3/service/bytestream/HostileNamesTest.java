package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.observe.CallRecorder;
import dev.bytestreams3.service.observe.EventLog;
import dev.bytestreams3.service.observe.LogFormat;
import dev.bytestreams3.service.observe.RpcLog;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names a careless or hostile client may send get one precise INVALID_ARGUMENT whose message and
 * log line stay short, over a real socket (where trailers have a size limit).
 */
class HostileNamesTest {

  @TempDir Path dir;

  private LocalBlobStore store;
  private CacheServer server;
  private ManagedChannel channel;
  private ByteStreamClient client;
  private final List<String> logLines = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    EventLog events = new EventLog(LogFormat.TEXT, logLines::add, Clock.systemUTC());
    ServerOptions options =
        new ServerOptions(
            Optional.empty(),
            List.of(new CallRecorder(List.of(new RpcLog(events)), Clock.systemUTC())));
    server = CacheServer.start("127.0.0.1", 0, store, true, options);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    client = new ByteStreamClient(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdown(Duration.ZERO);
    store.close();
  }

  private static Status statusOf(ThrowingCallable call) {
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> caught[0] = e);
    return ((StatusRuntimeException) caught[0]).getStatus();
  }

  private void write(String name, byte[] data) throws Exception {
    client.write(
        List.of(
            WriteRequest.newBuilder()
                .setResourceName(name)
                .setData(ByteString.copyFrom(data))
                .setFinishWrite(true)
                .build()));
  }

  /** An object name of {@code bytes} bytes, in segments short enough for any file system. */
  private static String nameOfBytes(int bytes) {
    StringBuilder b = new StringBuilder("files");
    int left = bytes - b.length();
    while (left > 0) {
      // A slash and at least one letter each; never leave one byte that no segment could take.
      int segment = Math.min(100, left);
      if (left - segment == 1) {
        segment--;
      }
      b.append('/').append("a".repeat(segment - 1));
      left -= segment;
    }
    return b.toString();
  }

  @Test
  void longName_isInvalidArgument_quotingAShortPrefix_inTheMessageAndTheLog() {
    String name = "files/" + "x".repeat(16_000);
    for (ThrowingCallable call :
        List.<ThrowingCallable>of(
            () -> client.read(name, 0, 0), () -> write(name, new byte[] {1}),
            () -> client.status(name))) {
      Status s = statusOf(call);
      assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(s.getDescription())
          .startsWith("resource_name 'files/xxx")
          .contains("...' (16006 characters) is invalid: name is 16006 bytes long (expected: <= 900)")
          .hasSizeLessThan(400);
    }
    assertThat(logLines).hasSize(3);
    assertThat(logLines).allSatisfy(l -> assertThat(l).hasSizeLessThan(2000).contains("status=INVALID_ARGUMENT"));
  }

  @Test
  void invisibleCharacters_areRejected_andWrittenEscaped() {
    String[][] cases = {
      {"\u0085", "U+0085, a control character"},
      {"\u202E", "U+202E, an invisible format character"},
      {"\u202A", "U+202A, an invisible format character"},
      {"\u2066", "U+2066, an invisible format character"},
      {"\u2069", "U+2069, an invisible format character"},
      {"\u200B", "U+200B, an invisible format character"},
      {"\u200D", "U+200D, an invisible format character"},
      {"\uFEFF", "U+FEFF, an invisible format character"},
      {"\u2028", "U+2028, a line or paragraph separator"},
    };
    for (String[] c : cases) {
      String name = "files/report" + c[0] + "fdp.exe";
      Status read = statusOf(() -> client.read(name, 0, 0));
      Status written = statusOf(() -> write(name, new byte[] {1}));
      for (Status s : List.of(read, written)) {
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains(c[1]).contains("at index 12").doesNotContain(c[0]);
      }
      assertThat(read.getDescription())
          .startsWith(
              "resource_name 'files/report" + String.format("\\u%04X", (int) c[0].charAt(0)));
    }
    assertThat(logLines).noneMatch(l -> l.contains("\u202E") || l.contains("\u0085"));
  }

  @Test
  void objectNames_whoseKeyWouldPassTheLimit_areOneInvalidArgument() throws Exception {
    byte[] data = randomBytes(100, 1);
    // 'objects/' makes the key 8 bytes longer than the name: 892 bytes is the longest name.
    String longest = nameOfBytes(892);
    assertThat(longest.getBytes(StandardCharsets.UTF_8)).hasSize(892);
    write(longest, data);
    assertThat(client.read(longest, 0, 0)).isEqualTo(data);

    for (int bytes = 893; bytes <= 900; bytes++) {
      String name = nameOfBytes(bytes);
      String expected =
          "is invalid: its store key would be " + (bytes + 8) + " bytes (expected: <= 900";
      for (ThrowingCallable call :
          List.<ThrowingCallable>of(
              () -> client.read(name, 0, 0), () -> write(name, data), () -> client.status(name))) {
        Status s = statusOf(call);
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains(expected);
      }
    }
  }
}
