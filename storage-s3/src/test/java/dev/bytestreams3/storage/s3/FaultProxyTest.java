package dev.bytestreams3.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.s3.FaultProxy.Kind;
import java.net.URI;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The proxy the benchmarks put between the server and S3 to make S3 as far away as a real one:
 * the SDK's requests through it get their bytes unchanged, their answers the set delay later, and
 * their bodies at the set rate.
 */
class FaultProxyTest {

  private static S3MockFixture s3;
  private static FaultProxy proxy;
  private static S3AsyncClient direct;
  private static S3AsyncClient proxied;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3MockFixture.start();
    proxy = FaultProxy.start(s3.endpoint(), 7);
    direct = client(s3.endpoint());
    proxied = client(proxy.endpoint());
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxied != null) {
      proxied.close();
      direct.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private static S3AsyncClient client(URI endpoint) {
    return S3AsyncClient.builder()
        .endpointOverride(endpoint)
        .region(Region.of(S3MockFixture.REGION))
        .forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create(S3MockFixture.ACCESS_KEY, S3MockFixture.SECRET_KEY)))
        .build();
  }

  private static byte[] random(int bytes, long seed) {
    byte[] b = new byte[bytes];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void put(S3AsyncClient client, String key, byte[] data) throws Exception {
    client
        .putObject(r -> r.bucket(s3.bucket()).key(key), AsyncRequestBody.fromBytes(data))
        .get(60, TimeUnit.SECONDS);
  }

  private static byte[] get(S3AsyncClient client, String key) throws Exception {
    return client
        .getObject(r -> r.bucket(s3.bucket()).key(key), AsyncResponseTransformer.toBytes())
        .get(60, TimeUnit.SECONDS)
        .asByteArray();
  }

  @Test
  void bytesPassUnchangedBothWays_andRequestsAreCountedByKindAndPath() throws Exception {
    proxy.heal().watch("/unchanged/");
    byte[] stored = random(3 << 20, 1);
    put(direct, "unchanged/down", stored);
    long getsBefore = proxy.requests(Kind.GET);
    long putsBefore = proxy.requests(Kind.PUT_OBJECT);

    assertThat(get(proxied, "unchanged/down")).isEqualTo(stored);

    byte[] sent = random((2 << 20) + 17, 2);
    put(proxied, "unchanged/up", sent);
    assertThat(get(direct, "unchanged/up")).isEqualTo(sent);
    assertThat(proxy.requests(Kind.GET) - getsBefore).isEqualTo(1);
    assertThat(proxy.requests(Kind.PUT_OBJECT) - putsBefore).isEqualTo(1);
    assertThat(proxy.requests(Kind.GET, "/unchanged/")).isEqualTo(1);
    assertThat(proxy.requests(Kind.PUT_OBJECT, "/unchanged/")).isEqualTo(1);
    assertThat(proxy.requests(Kind.HEAD, "/unchanged/")).isZero();
  }

  @Test
  void everyResponseStartsTheSetDelayLate() throws Exception {
    proxy.heal();
    put(direct, "delayed", random(1024, 3));
    proxy.latency(250);
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      proxied.headObject(r -> r.bucket(s3.bucket()).key("delayed")).get(60, TimeUnit.SECONDS);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
          .as("HEAD %d through a proxy adding 250 ms", i)
          .isGreaterThanOrEqualTo(250);
    }
    proxy.heal();
  }

  @Test
  void bodiesMoveAtTheSetRate_andFreelyOnceLifted() throws Exception {
    proxy.heal();
    byte[] stored = random(1 << 20, 4);
    put(direct, "throttled", stored);
    get(proxied, "throttled"); // connections and code paths warmed up before timing

    proxy.bandwidth(512 * 1024);
    long start = System.nanoTime();
    assertThat(get(proxied, "throttled")).isEqualTo(stored);
    double throttledSeconds = (System.nanoTime() - start) / 1e9;
    // 1 MiB at 512 KiB/s takes two seconds; the first chunk goes at once.
    assertThat(throttledSeconds).isGreaterThanOrEqualTo(1.9);

    byte[] sent = random(1 << 20, 5);
    start = System.nanoTime();
    put(proxied, "throttled-up", sent);
    assertThat((System.nanoTime() - start) / 1e9).isGreaterThanOrEqualTo(1.9);
    assertThat(get(direct, "throttled-up")).isEqualTo(sent);

    proxy.bandwidth(0);
    start = System.nanoTime();
    assertThat(get(proxied, "throttled")).isEqualTo(stored);
    assertThat((System.nanoTime() - start) / 1e9).isLessThan(throttledSeconds / 2);
  }
}
