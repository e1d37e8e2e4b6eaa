package dev.bytestreams3.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  @Test
  void defaults_useTheLocalStoreOnLoopback() {
    ServerConfig c = ConfigLoader.load(new String[0], Map.of());
    assertThat(c.usesS3()).isFalse();
    assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
    assertThat(c.grpcPort()).isEqualTo(8980);
    assertThat(c.partSizeBytes()).isEqualTo(8L << 20);
    assertThat(c.memoryBudgetBytes()).isEqualTo(Runtime.getRuntime().maxMemory() / 4);
  }

  @Test
  void flags_winOverEnvironment() {
    ServerConfig c =
        ConfigLoader.load(
            new String[] {"--bucket=flag-bucket", "--grpc-port", "9000"},
            Map.of("BS3_BUCKET", "env-bucket", "BS3_PREFIX", "cache/"));
    assertThat(c.bucket()).contains("flag-bucket");
    assertThat(c.keyPrefix()).isEqualTo("cache/");
    assertThat(c.grpcPort()).isEqualTo(9000);
    assertThat(c.usesS3()).isTrue();
  }

  @Test
  void badValues_nameTheSetting() {
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--part-size-bytes=1000"}, Map.of()))
        .hasMessage("--part-size-bytes: 1000 (expected: >= 5242880, S3's smallest part)");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--grpc-port=x"}, Map.of()))
        .hasMessage("--grpc-port: 'x' is not a number");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--colour=red"}, Map.of()))
        .hasMessage("unknown setting --colour (see --help)");
    assertThatThrownBy(() -> ConfigLoader.load(new String[0], Map.of("BS3_PATH_STYLE", "yes")))
        .hasMessage("--path-style: 'yes' (expected: true or false)");
    assertThatThrownBy(
            () -> ConfigLoader.load(new String[] {"--checksum-mode=sometimes"}, Map.of()))
        .hasMessageContaining("expected: when-required or when-supported");
  }

  @Test
  void httpSettings_defaultToPort8080AndCanTurnHttpOff() {
    ServerConfig d = ConfigLoader.load(new String[0], Map.of());
    assertThat(d.httpPort()).isEqualTo(8080);
    assertThat(d.servesHttp()).isTrue();
    assertThat(d.httpRulesFile()).isEmpty();
    assertThat(d.httpMaxMessageBytes()).isEqualTo(16 << 20);
    assertThat(d.httpUnaryTimeout()).hasSeconds(30);
    ServerConfig off =
        ConfigLoader.load(new String[] {"--http-port=-1"}, Map.of("BS3_HTTP_RULES", "rules.yaml"));
    assertThat(off.servesHttp()).isFalse();
    assertThat(off.httpRulesFile()).contains(Path.of("rules.yaml"));
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--http-port=-2"}, Map.of()))
        .hasMessage("--http-port: -2 (expected: -1 to 65535)");
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--http-max-message-bytes=10"}, Map.of()))
        .hasMessage("--http-max-message-bytes: 10 (expected: 1024 to 1073741824)");
  }

  @Test
  void httpJson_defaultsToGrpcGatewayV2_strictJsonRestoresTheStrictMapping() {
    ServerConfig d = ConfigLoader.load(new String[0], Map.of());
    assertThat(d.httpIgnoreUnknownFields()).isTrue();
    assertThat(d.httpEmitUnpopulated()).isTrue();
    ServerConfig strict = ConfigLoader.load(new String[] {"--http-strict-json=true"}, Map.of());
    assertThat(strict.httpIgnoreUnknownFields()).isFalse();
    assertThat(strict.httpEmitUnpopulated()).isFalse();
    // The older flag still decides the unknown-field part when it is given.
    ServerConfig mixed =
        ConfigLoader.load(
            new String[] {"--http-ignore-unknown-fields=true"}, Map.of("BS3_HTTP_STRICT_JSON", "true"));
    assertThat(mixed.httpIgnoreUnknownFields()).isTrue();
    assertThat(mixed.httpEmitUnpopulated()).isFalse();
    ServerConfig rejecting =
        ConfigLoader.load(new String[] {"--http-ignore-unknown-fields=false"}, Map.of());
    assertThat(rejecting.httpIgnoreUnknownFields()).isFalse();
    assertThat(rejecting.httpEmitUnpopulated()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.load(new String[] {"--http-strict-json=yes"}, Map.of()))
        .hasMessage("--http-strict-json: 'yes' (expected: true or false)");
  }

  @Test
  void expiryAge_defaultsFitInside_andTtlPlusThresholdBeyondItIsRefused() {
    ServerConfig none = ConfigLoader.load(new String[0], Map.of());
    assertThat(none.expires()).isFalse();
    assertThat(none.existenceCacheTtl()).isEqualTo(Duration.ofHours(1));

    ServerConfig month =
        ConfigLoader.load(new String[0], Map.of("BS3_EXPIRY_AGE_DAYS", "30"));
    assertThat(month.expiryAge()).isEqualTo(Duration.ofDays(30));
    assertThat(month.refreshThreshold()).isEqualTo(Duration.ofDays(15));

    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    new String[] {"--expiry-age-days=1", "--existence-cache-ttl-seconds=50000"},
                    Map.of()))
        .hasMessage(
            "--existence-cache-ttl-seconds (50000) plus the refresh threshold (43200 s) must be"
                + " less than --expiry-age-days (1 days = 86400 s): a blob reported present could"
                + " otherwise expire before the answer does");
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    new String[] {"--expiry-age-days=2", "--refresh-threshold-seconds=172800"},
                    Map.of()))
        .hasMessageStartingWith("--existence-cache-ttl-seconds (3600) plus the refresh threshold (172800 s)");
  }

  @Test
  void secrets_neverAppearInTheLoggedConfiguration() {
    ServerConfig c =
        ConfigLoader.load(
            new String[] {"--bucket=b", "--access-key-id=AKIDEXAMPLE", "--secret-access-key=s3cr3t"},
            Map.of());
    assertThat(c.toString()).doesNotContain("s3cr3t").doesNotContain("AKIDEXAMPLE");
  }

  @Test
  void helpAndReadme_documentEverySetting() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (ConfigLoader.Setting s : ConfigLoader.SETTINGS) {
      assertThat(ConfigLoader.help()).contains("--" + s.name()).contains(s.env());
      assertThat(readme).contains("`--" + s.name() + "`").contains("`" + s.env() + "`");
    }
  }

  @Test
  void uploadRecordSchedule_reachesTheStore_andMustBeShorterThanTheIdleTimeout() {
    ServerConfig defaults = ConfigLoader.load(new String[] {"--bucket=b"}, Map.of());
    assertThat(StoreFactory.s3Config(defaults).recordEveryParts()).isEqualTo(16);
    assertThat(StoreFactory.s3Config(defaults).recordEvery()).isEqualTo(java.time.Duration.ofSeconds(10));
    ServerConfig set =
        ConfigLoader.load(
            new String[] {
              "--bucket=b", "--upload-record-every-parts=4", "--upload-record-every-seconds=0"
            },
            Map.of());
    assertThat(StoreFactory.s3Config(set).recordEveryParts()).isEqualTo(4);
    assertThat(StoreFactory.s3Config(set).recordEvery()).isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    new String[] {
                      "--upload-record-every-seconds=60", "--upload-idle-timeout-seconds=60"
                    },
                    Map.of()))
        .hasMessage(
            "--upload-record-every-seconds: 60 (expected: < --upload-idle-timeout-seconds 60, or"
                + " the idle sweep would abort uploads still being written)");
  }

  @Test
  void s3Budget_mustHoldFourParts() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    new String[] {"--bucket=b", "--memory-budget-bytes=33554431"}, Map.of()))
        .hasMessage(
            "--memory-budget-bytes: 33554431 (expected: >= 4 x --part-size-bytes = 33554432; one"
                + " part buffer may take at most a quarter of the budget)");
    ServerConfig c =
        ConfigLoader.load(new String[] {"--bucket=b", "--memory-budget-bytes=33554432"}, Map.of());
    assertThat(c.streamIdleTimeout()).hasSeconds(60);
    assertThat(c.writeFirstMessageTimeout()).hasSeconds(10);
    assertThat(c.grpcConnections().maxConcurrentStreams()).isEqualTo(1000);
  }

  @Test
  void cacheDir_isOffByDefault_andOnFromFlagOrEnvironment() {
    ServerConfig off = ConfigLoader.load(new String[0], Map.of());
    assertThat(off.tiered()).isFalse();
    assertThat(off.cacheMaxBytes()).isZero();

    ServerConfig env =
        ConfigLoader.load(
            new String[0],
            Map.of("BS3_CACHE_DIR", "/var/cache/bytestream-s3", "BS3_CACHE_MAX_BYTES", "1073741824"));
    assertThat(env.cacheDir()).contains(Path.of("/var/cache/bytestream-s3"));
    assertThat(env.cacheMaxBytes()).isEqualTo(1L << 30);
    assertThat(env.toString()).contains("cacheDir=/var/cache/bytestream-s3, cacheMaxBytes=1073741824");

    ServerConfig flag =
        ConfigLoader.load(new String[] {"--cache-dir=tier"}, Map.of("BS3_CACHE_DIR", "other"));
    assertThat(flag.cacheDir()).contains(Path.of("tier"));
    assertThat(flag.toString()).contains("cacheMaxBytes=default");
  }

  @Test
  void cacheMaxBytes_mustBePositive() {
    assertThatThrownBy(
            () -> ConfigLoader.load(new String[] {"--cache-dir=t", "--cache-max-bytes=0"}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--cache-max-bytes: 0 (expected: 1 to 9223372036854775807)");
  }

  @Test
  void cacheActionResultsMaxAge_isZeroByDefault_andSetFromFlagOrEnvironment() {
    ServerConfig off = ConfigLoader.load(new String[] {"--cache-dir=t"}, Map.of());
    assertThat(off.cacheActionResultsMaxAge()).isZero();
    assertThat(off.toString()).doesNotContain("cacheActionResultsMaxAge");

    ServerConfig env =
        ConfigLoader.load(
            new String[] {"--cache-dir=t"},
            Map.of("BS3_CACHE_ACTION_RESULTS_MAX_AGE_SECONDS", "30"));
    assertThat(env.cacheActionResultsMaxAge()).isEqualTo(Duration.ofSeconds(30));
    assertThat(env.toString()).contains("cacheActionResultsMaxAge=PT30S");

    ServerConfig flag =
        ConfigLoader.load(
            new String[] {"--cache-dir=t", "--cache-action-results-max-age-seconds=600"},
            Map.of("BS3_CACHE_ACTION_RESULTS_MAX_AGE_SECONDS", "30"));
    assertThat(flag.cacheActionResultsMaxAge()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void cacheActionResultsMaxAge_outOfRange_isRejectedWithItsName() {
    assertThatThrownBy(
            () ->
                ConfigLoader.load(
                    new String[] {"--cache-dir=t", "--cache-action-results-max-age-seconds=-1"},
                    Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--cache-action-results-max-age-seconds: -1 (expected: 0 to 86400)");
  }
}
