package dev.bytestreams3.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.service.http.HttpServer;
import dev.bytestreams3.service.http.MetricsEndpoint;
import dev.bytestreams3.service.observe.MetricsText;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
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

  private HttpClient client(Optional<TestPki.Issued> clientCert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
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
    ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private HttpResponse<String> get(HttpClient c, String scheme) throws Exception {
    return c.send(
        HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + http.port() + "/metrics")).build(),
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
    assertThatThrownBy(() -> get(plain, "http")).isInstanceOf(IOException.class);
  }

  @Test
  void mutualTls_needsAClientCertificateFromTheCa() throws Exception {
    start(Optional.of(ca.certFile()));
    TestPki.Issued clientCert = TestPki.issue(ca, dir, "client");
    assertThat(get(client(Optional.of(clientCert)), "https").statusCode()).isEqualTo(200);
    assertThatThrownBy(() -> get(client(Optional.empty()), "https")).isInstanceOf(IOException.class);
  }
}
