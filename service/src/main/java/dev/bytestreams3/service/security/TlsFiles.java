package dev.bytestreams3.service.security;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The PEM files of the server's TLS, shared by the gRPC and the HTTP port.
 *
 * @param certFile the certificate chain, the server's certificate first
 * @param keyFile its PKCS#8 private key
 * @param clientCaFile CA certificates clients must present a certificate from; empty for none
 */
public record TlsFiles(Path certFile, Path keyFile, Optional<Path> clientCaFile) {

  public TlsFiles {
    requireNonNull(certFile, "certFile");
    requireNonNull(keyFile, "keyFile");
    requireNonNull(clientCaFile, "clientCaFile");
  }
}
