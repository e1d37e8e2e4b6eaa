package dev.bytestreams3.storage.s3;

import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The store contract on LocalStack, a second S3 implementation, in a container. Skipped, with
 * JUnit's reason "Docker is not available", where no Docker engine runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackBlobStoreContractTest extends S3BlobStoreContract {

  /** The last LocalStack release that runs without an auth token. */
  @Container
  static final LocalStackContainer LOCALSTACK =
      new LocalStackContainer("localstack/localstack:4.14.0").withServices("s3");

  private static final String BUCKET = "contract-" + UUID.randomUUID().toString().substring(0, 8);
  @BeforeAll
  static void createBucket() {
    try (S3AsyncClient admin =
        S3AsyncClient.builder()
            .endpointOverride(LOCALSTACK.getEndpoint())
            .region(Region.of(LOCALSTACK.getRegion()))
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey())))
            .build()) {
      admin.createBucket(r -> r.bucket(BUCKET)).join();
    }
  }

  @Override
  protected S3StoreConfig.Builder server() {
    return S3StoreConfig.builder()
        .bucket(BUCKET)
        .endpointOverride(LOCALSTACK.getEndpoint())
        .region(LOCALSTACK.getRegion())
        .pathStyleAccess(true)
        .credentials(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey());
  }

  @Override
  protected String serverName() {
    return "LocalStack at " + LOCALSTACK.getEndpoint() + ", bucket " + BUCKET;
  }
}
