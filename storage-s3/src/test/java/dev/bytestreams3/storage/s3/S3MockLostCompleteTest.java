package dev.bytestreams3.storage.s3;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link S3LostCompleteTest} on S3Mock, which completes a completed upload again. */
class S3MockLostCompleteTest extends S3LostCompleteTest {

  private static S3MockFixture s3;

  @BeforeAll
  static void startS3() {
    s3 = S3MockFixture.start();
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
    return true;
  }
}
