package dev.bytestreams3.storage.s3;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/** {@link S3HostileWritersTest}'s rounds on S3Proxy, a second S3 implementation. */
@EnabledIf(
    value = "dev.bytestreams3.storage.s3.S3ProxyFixture#installed",
    disabledReason = "S3Proxy's jar is not in target/s3proxy/: the Maven build copies it there")
class S3ProxyHostileWritersTest {

  private static S3ProxyFixture s3;

  @BeforeAll
  static void startS3() {
    s3 = S3ProxyFixture.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void hostileAndUnluckyWriters_neverPublishBytesTheDigestDoesNotName() throws Exception {
    S3HostileWritersTest.hostileRounds(s3::storeConfig, s3.bucket());
  }
}
