package dev.bytestreams3.storage.s3;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIf;

/** {@link S3LostCompleteTest} on S3Proxy, whose completed uploads are gone, as on S3. */
@EnabledIf(
    value = "dev.bytestreams3.storage.s3.S3ProxyFixture#installed",
    disabledReason = "S3Proxy's jar is not in target/s3proxy/: the Maven build copies it there")
class S3ProxyLostCompleteTest extends S3LostCompleteTest {

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

  @Override
  S3StoreConfig.Builder server() {
    return s3.storeConfig();
  }

  @Override
  boolean completesAgain() {
    return false;
  }
}
