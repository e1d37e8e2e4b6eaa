package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Over real sockets: an upload declaring more than S3 can store is refused before its bytes. */
class DeclaredSizeLimitTest {

  private static final String HASH =
      "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a";

  @TempDir Path dir;
  private GatewayHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new GatewayHarness(dir);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void rawUpload_declaringSixTebibytes_is400_namingTheLimit() throws Exception {
    HttpResponse<String> r =
        h.send(
            "PUT", "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + HASH + "/6597069766656",
            BodyPublishers.ofByteArray(new byte[] {1}));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body())
        .contains("is 6597069766656 bytes (expected: <= max_cas_blob_size_bytes 5497558138880)");
  }

  @Test
  void rawUpload_declaringFiveTebibytes_isNotRefusedForItsSize() throws Exception {
    HttpResponse<String> r =
        h.send(
            "PUT", "/raw/uploads/" + UUID.randomUUID() + "/blobs/" + HASH + "/5497558138880",
            BodyPublishers.ofByteArray(new byte[] {1}));
    // The body ends after one byte of the five tebibytes declared: a size mismatch, not the limit.
    assertThat(r.body()).doesNotContain("max_cas_blob_size_bytes");
    assertThat(r.statusCode()).isEqualTo(400);
  }
}
