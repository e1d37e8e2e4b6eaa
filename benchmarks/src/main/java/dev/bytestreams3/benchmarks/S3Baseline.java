package dev.bytestreams3.benchmarks;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.reactivestreams.Publisher;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The ceiling every scenario is held against: the AWS SDK's async client, built as the S3 store
 * builds its own (Netty HTTP client, same concurrency, same checksum mode), talking to the same S3
 * server from the same JVM.
 */
final class S3Baseline implements AutoCloseable {

  private final S3AsyncClient client;
  private final S3AsyncClient multipart;
  private final String bucket;
  private final CompleteTimer completes;

  private S3Baseline(
      S3AsyncClient client, S3AsyncClient multipart, String bucket, CompleteTimer completes) {
    this.client = client;
    this.multipart = multipart;
    this.bucket = bucket;
    this.completes = completes;
  }

  /** A client of {@code bucket} at {@code endpoint}; static credentials when {@code accessKey} is set. */
  static S3Baseline connect(
      URI endpoint, String bucket, String region, String accessKey, String secretKey, long partBytes) {
    CompleteTimer completes = new CompleteTimer();
    return new S3Baseline(
        builder(endpoint, region, accessKey, secretKey).build(),
        builder(endpoint, region, accessKey, secretKey)
            .overrideConfiguration(c -> c.addExecutionInterceptor(completes))
            .multipartEnabled(true)
            .multipartConfiguration(
                c -> c.minimumPartSizeInBytes(partBytes).thresholdInBytes(partBytes))
            .build(),
        bucket,
        completes);
  }

  /**
   * Seconds the multipart client waited on CompleteMultipartUpload responses since the last call:
   * the S3 server's time to assemble the objects after their last part.
   */
  double completeSeconds() {
    return completes.takeSeconds();
  }

  private static S3AsyncClientBuilder builder(
      URI endpoint, String region, String accessKey, String secretKey) {
    S3AsyncClientBuilder b =
        S3AsyncClient.builder()
            .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(128))
            .endpointOverride(endpoint)
            .region(Region.of(region))
            .forcePathStyle(true)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    if (accessKey != null) {
      b.credentialsProvider(
          StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)));
    }
    return b;
  }

  /** Uploads {@code data} with the SDK's multipart client. */
  CompletableFuture<Void> multipartUpload(String key, byte[] data) {
    return multipart
        .putObject(r -> r.bucket(bucket).key(key), AsyncRequestBody.fromBytesUnsafe(data))
        .thenApply(r -> null);
  }

  /** Uploads {@code source} with the SDK's multipart client, block by block. */
  CompletableFuture<Void> multipartUpload(String key, RepeatedBytes source) {
    return multipart
        .putObject(
            r -> r.bucket(bucket).key(key).contentLength(source.size()),
            AsyncRequestBody.fromPublisher(new RepeatedBytesPublisher(source)))
        .thenApply(r -> null);
  }

  /** Uploads the {@code size} bytes {@code body} publishes with the SDK's multipart client. */
  CompletableFuture<Void> multipartUpload(String key, long size, Publisher<ByteBuffer> body) {
    return multipart
        .putObject(
            r -> r.bucket(bucket).key(key).contentLength(size),
            AsyncRequestBody.fromPublisher(body))
        .thenApply(r -> null);
  }

  /** The bytes {@code first} to {@code last} of {@code key}, by one ranged GET. */
  CompletableFuture<byte[]> getRange(String key, long first, long last) {
    return client
        .getObject(
            r -> r.bucket(bucket).key(key).range("bytes=" + first + "-" + last),
            AsyncResponseTransformer.toBytes())
        .thenApply(b -> b.asByteArrayUnsafe());
  }

  /** Stores {@code data} in one PutObject. */
  CompletableFuture<Void> put(String key, byte[] data) {
    return client
        .putObject(r -> r.bucket(bucket).key(key), AsyncRequestBody.fromBytesUnsafe(data))
        .thenApply(r -> null);
  }

  /** Whether {@code key} exists, by one HEAD. */
  CompletableFuture<Boolean> exists(String key) {
    return client
        .headObject(r -> r.bucket(bucket).key(key))
        .handle(
            (r, err) -> {
              if (err == null) {
                return true;
              }
              Throwable cause = err.getCause() != null ? err.getCause() : err;
              if (cause instanceof NoSuchKeyException
                  || (cause instanceof software.amazon.awssdk.services.s3.model.S3Exception s
                      && s.statusCode() == 404)) {
                return false;
              }
              throw new IllegalStateException("HEAD " + key, cause);
            });
  }

  /**
   * Downloads {@code key} with ranged GETs of {@code segmentBytes}, {@code inFlight} at a time, and
   * fails unless the bytes equal {@code expected}.
   */
  CompletableFuture<Void> rangedDownload(
      String key, byte[] expected, int segmentBytes, int inFlight) {
    Semaphore permits = new Semaphore(inFlight);
    List<CompletableFuture<Void>> parts = new ArrayList<>();
    for (long from = 0; from < expected.length; from += segmentBytes) {
      long start = from;
      long end = Math.min(expected.length, from + segmentBytes) - 1;
      permits.acquireUninterruptibly();
      parts.add(
          client
              .getObject(
                  r -> r.bucket(bucket).key(key).range("bytes=" + start + "-" + end),
                  AsyncResponseTransformer.toBytes())
              .thenAccept(
                  b -> {
                    byte[] got = b.asByteArrayUnsafe();
                    if (Arrays.mismatch(
                            got, 0, got.length, expected, (int) start, (int) end + 1)
                        >= 0) {
                      throw new IllegalStateException(key + ": wrong bytes in " + start + "-" + end);
                    }
                  })
              .whenComplete((v, err) -> permits.release()));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
  }

  /** Deletes the objects at {@code keys}, {@code inFlight} at a time. */
  CompletableFuture<Void> delete(List<String> keys, int inFlight) {
    Semaphore permits = new Semaphore(inFlight);
    List<CompletableFuture<?>> deletes = new ArrayList<>();
    for (String key : keys) {
      permits.acquireUninterruptibly();
      deletes.add(
          client
              .deleteObject(r -> r.bucket(bucket).key(key))
              .whenComplete((r, err) -> permits.release()));
    }
    return CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new));
  }

  @Override
  public void close() {
    client.close();
    multipart.close();
  }
}
