package dev.bytestreams3.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bytestreams3.service.observe.LogFormat;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TLS, token and log settings: what they turn on, and the mistakes they reject. */
class SecuritySettingsTest {

  @Test
  void defaults_haveNoTlsNoTokensAndTextLogs() {
    ServerConfig c = ConfigLoader.load(new String[0], Map.of());
    assertThat(c.tls()).isEmpty();
    assertThat(c.tokenFile()).isEmpty();
    assertThat(c.logFormat()).isEqualTo(LogFormat.TEXT);
    assertThat(c.toString()).contains("tls=off", "tokens=off");
  }

  @Test
  void tlsFiles_comeFromFlagsOrEnvironment() {
    ServerConfig c =
        ConfigLoader.load(
            new String[] {"--tls-cert-file=/etc/bs3/tls.crt", "--log-format=json"},
            Map.of(
                "BS3_TLS_KEY_FILE", "/etc/bs3/tls.key",
                "BS3_TLS_CLIENT_CA_FILE", "/etc/bs3/ca.pem",
                "BS3_TOKEN_FILE", "/etc/bs3/tokens"));
    assertThat(c.tls()).hasValueSatisfying(t -> {
      assertThat(t.certFile()).isEqualTo(Path.of("/etc/bs3/tls.crt"));
      assertThat(t.keyFile()).isEqualTo(Path.of("/etc/bs3/tls.key"));
      assertThat(t.clientCaFile()).contains(Path.of("/etc/bs3/ca.pem"));
    });
    assertThat(c.tokenFile()).contains(Path.of("/etc/bs3/tokens"));
    assertThat(c.logFormat()).isEqualTo(LogFormat.JSON);
    assertThat(c.toString()).contains("tls=mutual", "tokens=/etc/bs3/tokens");
  }

  @Test
  void halfATlsSetup_isRejectedWithTheSettingsNamed() {
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--tls-cert-file=a.crt"}, Map.of()))
        .hasMessage("--tls-cert-file and --tls-key-file go together; set both or neither");
    assertThatThrownBy(
            () -> ConfigLoader.load(new String[] {"--tls-client-ca-file=ca.pem"}, Map.of()))
        .hasMessage("--tls-client-ca-file needs TLS: set --tls-cert-file and --tls-key-file too");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--log-format=xml"}, Map.of()))
        .hasMessage("--log-format: 'xml' (expected: text or json)");
  }
}
