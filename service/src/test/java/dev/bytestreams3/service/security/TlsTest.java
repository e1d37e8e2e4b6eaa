package dev.bytestreams3.service.security;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.ServerOptions;
import dev.bytestreams3.service.bytestream.ByteStreamClient;
import dev.bytestreams3.storage.local.LocalBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC port with TLS and with mutual TLS, over real loopback sockets. */
class TlsTest {

  @TempDir Path dir;

  private LocalBlobStore store;
  private CacheServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private TestPki.Issued ca;
  private TestPki.Issued serverCert;

  @BeforeEach
  void pki() throws Exception {
    store = new LocalBlobStore(dir.resolve("store"), 1024 * 1024, 4);
    ca = TestPki.ca(dir, "test-ca");
    serverCert = TestPki.issue(ca, dir, "server");
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    if (server != null) {
      server.shutdown(java.time.Duration.ZERO);
    }
    store.close();
  }

  private void startServer(Optional<Path> clientCa) throws Exception {
    ServerOptions options =
        new ServerOptions(
            Optional.of(ServerTls.context(serverCert.certFile(), serverCert.keyFile(), clientCa)),
            List.of());
    server = CacheServer.start("127.0.0.1", 0, store, true, options);
  }

  private ByteStreamClient client(SslContextBuilder tls) throws Exception {
    ManagedChannel c =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .sslContext(GrpcSslContexts.configure(tls).build())
            .build();
    channels.add(c);
    return new ByteStreamClient(c);
  }

  private ByteStreamClient plainClient() {
    ManagedChannel c =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(c);
    return new ByteStreamClient(c);
  }

  private static void roundTrip(ByteStreamClient client) throws Exception {
    byte[] data = randomBytes(300_000, 7);
    String upload = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    assertThat(client.writeAll(upload, data).getCommittedSize()).isEqualTo(data.length);
    assertThat(client.read("blobs/" + sha256(data) + "/" + data.length, 0, 0)).isEqualTo(data);
  }

  @Test
  void tls_clientTrustingTheCa_writesAndReads() throws Exception {
    startServer(Optional.empty());
    roundTrip(client(SslContextBuilder.forClient().trustManager(ca.certFile().toFile())));
  }

  @Test
  void tls_plainTextClient_isRefused() throws Exception {
    startServer(Optional.empty());
    ByteStreamClient plain = plainClient();
    assertThatThrownBy(() -> plain.status("uploads/u/blobs/" + "0".repeat(64) + "/5"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void tls_clientNotTrustingTheServer_fails() throws Exception {
    startServer(Optional.empty());
    TestPki.Issued otherCa = TestPki.ca(dir, "other-ca");
    ByteStreamClient c = client(SslContextBuilder.forClient().trustManager(otherCa.certFile().toFile()));
    assertThatThrownBy(() -> c.status("uploads/u/blobs/" + "0".repeat(64) + "/5"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void mutualTls_clientWithCertificateFromTheCa_writesAndReads() throws Exception {
    startServer(Optional.of(ca.certFile()));
    TestPki.Issued clientCert = TestPki.issue(ca, dir, "client");
    roundTrip(
        client(
            SslContextBuilder.forClient()
                .trustManager(ca.certFile().toFile())
                .keyManager(clientCert.certFile().toFile(), clientCert.keyFile().toFile())));
  }

  @Test
  void mutualTls_clientWithoutCertificate_isRefused() throws Exception {
    startServer(Optional.of(ca.certFile()));
    ByteStreamClient c = client(SslContextBuilder.forClient().trustManager(ca.certFile().toFile()));
    assertThatThrownBy(() -> c.status("uploads/u/blobs/" + "0".repeat(64) + "/5"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void mutualTls_clientCertificateFromAnotherCa_isRefused() throws Exception {
    startServer(Optional.of(ca.certFile()));
    TestPki.Issued otherCa = TestPki.ca(dir, "other-ca");
    TestPki.Issued stranger = TestPki.issue(otherCa, dir, "stranger");
    ByteStreamClient c =
        client(
            SslContextBuilder.forClient()
                .trustManager(ca.certFile().toFile())
                .keyManager(stranger.certFile().toFile(), stranger.keyFile().toFile()));
    assertThatThrownBy(() -> c.status("uploads/u/blobs/" + "0".repeat(64) + "/5"))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void unreadableFiles_nameTheSetting() {
    assertThatThrownBy(
            () -> ServerTls.context(dir.resolve("missing.crt"), serverCert.keyFile(), Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--tls-cert-file")
        .hasMessageContaining("missing.crt");
    assertThatThrownBy(
            () ->
                ServerTls.context(
                    serverCert.certFile(), serverCert.keyFile(), Optional.of(dir.resolve("ca.pem"))))
        .hasMessageContaining("--tls-client-ca-file");
  }
}
