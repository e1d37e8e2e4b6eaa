package dev.bytestreams3.service.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLException;

/** The TLS settings of the gRPC port, built from PEM files. */
public final class ServerTls {

  private ServerTls() {}

  /** A server context from {@code files}; see {@link #context(Path, Path, Optional)}. */
  public static SslContext context(TlsFiles files) {
    return context(files.certFile(), files.keyFile(), files.clientCaFile());
  }

  /**
   * A server context presenting {@code certFile} (a PEM certificate chain) with {@code keyFile} (a
   * PEM PKCS#8 private key). With {@code clientCaFile}, every client must present a certificate
   * issued by one of its CAs.
   *
   * @throws IllegalArgumentException naming the setting whose file is unusable
   */
  public static SslContext context(Path certFile, Path keyFile, Optional<Path> clientCaFile) {
    readable("--tls-cert-file", certFile);
    readable("--tls-key-file", keyFile);
    clientCaFile.ifPresent(p -> readable("--tls-client-ca-file", p));
    try {
      SslContextBuilder b =
          GrpcSslContexts.configure(SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile()));
      if (clientCaFile.isPresent()) {
        b.trustManager(clientCaFile.get().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--tls-cert-file " + certFile + " / --tls-key-file " + keyFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * Checks that each file of {@code files} can be read.
   *
   * @throws IllegalArgumentException naming the setting whose file is not readable
   */
  public static void checkReadable(TlsFiles files) {
    readable("--tls-cert-file", files.certFile());
    readable("--tls-key-file", files.keyFile());
    files.clientCaFile().ifPresent(p -> readable("--tls-client-ca-file", p));
  }

  private static void readable(String setting, Path p) {
    if (!Files.isReadable(p)) {
      throw new IllegalArgumentException(setting + ": " + p + " is not a readable file");
    }
  }
}
