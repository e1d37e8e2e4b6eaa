package dev.bytestreams3.it;

import static dev.bytestreams3.it.Streams.blobName;
import static dev.bytestreams3.it.Streams.randomBytes;
import static dev.bytestreams3.it.Streams.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Token authentication in a server process on a real S3 protocol server: instances are kept
 * apart, and neither tokens nor S3 credentials appear anywhere in what the process prints.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TokensOverS3Test {

  private static final String TEAM_A = "it-team-a-token-5b0c6e1d9f2a";
  private static final String TEAM_B = "it-team-b-token-a83e7c14d06f";

  private static S3Server s3;

  @TempDir Path dir;

  @BeforeAll
  static void startS3() {
    s3 = S3Server.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  private static void assertStatus(Runnable call, Status.Code code, String messagePart) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription())
                  .contains(messagePart)
                  .doesNotContain(TEAM_A)
                  .doesNotContain(TEAM_B);
            });
  }

  @Test
  void oneInstancesToken_cannotReadOrWriteAnothersBlobs_andNoSecretIsPrinted() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TEAM_A + " read-write team-a\n" + TEAM_B + " read-write team-b\n");
    List<String> args = new ArrayList<>(s3.serverArgs());
    args.add("--prefix=it-" + UUID.randomUUID() + "/");
    args.add("--token-file=" + tokens);
    args.add("--log-format=json");
    byte[] data = randomBytes(6 * 1024 * 1024 + 5, 21);
    ServerProcess server = ServerProcess.start(List.of(), args);
    try (Streams a = new Streams(server.target(), TEAM_A);
        Streams b = new Streams(server.target(), TEAM_B);
        Streams anonymous = new Streams(server.target())) {
      assertThat(a.writeAll(uploadName("team-a", data), data).getCommittedSize())
          .isEqualTo(data.length);
      assertThat(a.read(blobName("team-a", data), 0, 0)).isEqualTo(data);

      assertStatus(
          () -> b.read(blobName("team-a", data), 0, 0),
          Status.Code.PERMISSION_DENIED,
          "the token may not read 'team-a'");
      byte[] other = randomBytes(1000, 22);
      assertThatThrownBy(() -> b.writeAll(uploadName("team-a", other), other))
          .hasMessageContaining("PERMISSION_DENIED")
          .hasMessageContaining("may not write 'team-a'");
      assertStatus(
          () -> a.read(blobName("team-a", other), 0, 0), Status.Code.NOT_FOUND, "not found");
      assertStatus(
          () -> anonymous.read(blobName("team-a", data), 0, 0),
          Status.Code.UNAUTHENTICATED,
          "no bearer token");
    } finally {
      assertThat(server.terminate()).isZero();
    }
    List<String> log = server.log();
    assertThat(log).anyMatch(l -> l.contains("\"status\":\"PERMISSION_DENIED\""));
    for (String secret : List.of(TEAM_A, TEAM_B, "s3mock-secret-key", "s3mock-access-key")) {
      assertThat(log).as("no line contains %s", secret).noneMatch(l -> l.contains(secret));
    }
  }
}
