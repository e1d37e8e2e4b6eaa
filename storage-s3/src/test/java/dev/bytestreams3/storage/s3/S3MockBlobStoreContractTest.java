package dev.bytestreams3.storage.s3;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on S3Mock in this JVM: always runs. */
class S3MockBlobStoreContractTest extends S3BlobStoreContract {

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
  protected S3StoreConfig.Builder server() {
    return s3.storeConfig();
  }

  @Override
  protected String serverName() {
    return "S3Mock at " + s3.endpoint() + ", bucket " + s3.bucket();
  }
}
