package dev.bytestreams3.it;

import dev.bytestreams3.storage.s3.S3MockFixture;
import dev.bytestreams3.storage.s3.S3StoreConfig;
import java.util.List;

/** The S3 protocol server the end-to-end tests run against, and the flags that reach it. */
final class S3Server implements AutoCloseable {

  private final S3MockFixture s3;

  private S3Server(S3MockFixture s3) {
    this.s3 = s3;
  }

  static S3Server start() {
    return new S3Server(S3MockFixture.start());
  }

  String description() {
    return "S3Mock at " + s3.endpoint() + ", bucket " + s3.bucket();
  }

  /** The bucket the server flags name. */
  String bucket() {
    return s3.bucket();
  }

  /** Where the S3 server listens. */
  java.net.URI endpoint() {
    return s3.endpoint();
  }

  /** The server flags for this S3 server, as a user would give them for an S3-compatible store. */
  List<String> serverArgs() {
    return List.of(
        "--bucket=" + s3.bucket(),
        "--endpoint=" + s3.endpoint(),
        "--path-style=true",
        "--region=us-east-1",
        "--access-key-id=s3mock-access-key",
        "--secret-access-key=s3mock-secret-key",
        "--checksum-mode=when-required");
  }

  /** {@link #serverArgs()}, but reaching S3 through {@code endpoint} (a proxy in front of it). */
  List<String> serverArgsVia(java.net.URI endpoint) {
    return serverArgs().stream()
        .map(a -> a.startsWith("--endpoint=") ? "--endpoint=" + endpoint : a)
        .toList();
  }

  /** A store configuration reaching this S3 server directly, beside the server under test. */
  S3StoreConfig.Builder storeConfig() {
    return s3.storeConfig();
  }

  /** Deletes {@code key} from the bucket, as its expiry rule would. */
  void delete(String key) {
    try (software.amazon.awssdk.services.s3.S3Client admin = admin()) {
      admin.headObject(r -> r.bucket(s3.bucket()).key(key));
      admin.deleteObject(r -> r.bucket(s3.bucket()).key(key));
    }
  }

  /** Stores {@code data} under {@code key} behind the server's back, as another writer could. */
  void put(String key, byte[] data) {
    try (software.amazon.awssdk.services.s3.S3Client admin = admin()) {
      admin.putObject(
          r -> r.bucket(s3.bucket()).key(key),
          software.amazon.awssdk.core.sync.RequestBody.fromBytes(data));
    }
  }

  private software.amazon.awssdk.services.s3.S3Client admin() {
    return software.amazon.awssdk.services.s3.S3Client.builder()
        .endpointOverride(s3.endpoint())
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(
            software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                    S3MockFixture.ACCESS_KEY, S3MockFixture.SECRET_KEY)))
        .build();
  }

  @Override
  public void close() {
    s3.close();
  }
}
