package dev.bytestreams3.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.service.http.MetricsEndpoint;
import dev.bytestreams3.service.observe.MetricsText;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP port with the same TLS files as the gRPC port, and {@code /metrics} on it. */
class HttpsTest {

  @TempDir Path dir;

  private TestPki.Issued ca;
  private TestPki.Issued serverCert;
  private HttpServer http;
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void pki() throws Exception {
    ca = TestPki.ca(dir, "http-ca");
    serverCert = TestPki.issue(ca, dir, "server");
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.counter("test.requests", "kind", "probe").increment(3);
  }

  @AfterEach
  void stop() {
    if (http != null) {
      http.stop();
    }
  }

  private void start(Optional<Path> clientCa) {
    http =
        HttpServer.start(
            "127.0.0.1",
            0,
            Duration.ofSeconds(1),
            List.of(new MetricsEndpoint(new MetricsText(registry))),
            Optional.of(new TlsFiles(serverCert.certFile(), serverCert.keyFile(), clientCa)));
  }

  private TrustManagerFactory trustingTheCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    return tmf;
  }

  private SSLContext tls(Optional<TestPki.Issued> clientCert) throws Exception {
    KeyManagerFactory kmf = null;
    if (clientCert.isPresent()) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          "client", clientCert.get().keys().getPrivate(), new char[0],
          new Certificate[] {clientCert.get().cert()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
    }
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf == null ? null : kmf.getKeyManagers(), trustingTheCa().getTrustManagers(), null);
    return ssl;
  }

  private HttpClient client(Optional<TestPki.Issued> clientCert) throws Exception {
    return HttpClient.newBuilder()
        .sslContext(tls(clientCert))
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private HttpResponse<String> get(HttpClient c, String scheme) throws Exception {
    return c.send(
        HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + http.port() + "/metrics"))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metrics_overHttps_arePrometheusText() throws Exception {
    start(Optional.empty());
    HttpResponse<String> r = get(client(Optional.empty()), "https");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
    assertThat(r.body())
        .contains("# TYPE test_requests_total counter")
        .contains("test_requests_total{kind=\"probe\"} 3");
  }

  @Test
  void plainHttp_toTheTlsPort_getsNoAnswer() throws Exception {
    start(Optional.empty());
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    assertThatThrownBy(() -> get(plain, "http"))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(HttpTimeoutException.class);
  }

  @Test
  void mutualTls_needsAClientCertificateFromTheCa() throws Exception {
    start(Optional.of(ca.certFile()));
    TestPki.Issued clientCert = TestPki.issue(ca, dir, "client");
    assertThat(get(client(Optional.of(clientCert)), "https").statusCode()).isEqualTo(200);
    assertThat(answerOverRawTls(Optional.of(clientCert))).startsWith("HTTP/1.1 200");
    assertThat(answerOverRawTls(Optional.empty())).startsWith("refused: ");
  }

  /**
   * Completes a handshake offering {@code clientCert}, sends one request and returns what came
   * back: the answer's status line, or how the connection was refused. A raw socket rather than
   * {@link HttpClient}: under TLS 1.3 the server refuses a missing certificate only after the
   * client's side of the handshake is done, and the JDK's client can miss that refusal and wait
   * for an answer forever.
   */
  private String answerOverRawTls(Optional<TestPki.Issued> clientCert) throws Exception {
    try (SSLSocket socket =
        (SSLSocket) tls(clientCert).getSocketFactory().createSocket("127.0.0.1", http.port())) {
      socket.setSoTimeout(30_000);
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return statusLine(socket.getInputStream());
    } catch (SocketTimeoutException silent) {
      throw new AssertionError("the server neither answered nor refused within 30 s", silent);
    } catch (IOException refused) {
      return "refused: " + refused;
    }
  }

  private static String statusLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
      line.append((char) c);
    }
    return line.toString().strip();
  }
}
