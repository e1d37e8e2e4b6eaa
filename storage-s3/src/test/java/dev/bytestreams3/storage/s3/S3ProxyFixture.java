package dev.bytestreams3.storage.s3;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * S3Proxy (Andrew Gaul's S3 server over jclouds) in a child JVM on a loopback port of its own,
 * storing in a folder under {@code target/}, with one empty bucket. It checks AWS signatures
 * against one key pair, so a request signed with another fails as it would on S3.
 *
 * <p>The build copies the server's jar to {@code target/s3proxy/}; where it is missing (a run
 * outside Maven) the test using this fixture is skipped, saying so.
 */
final class S3ProxyFixture implements AutoCloseable {

  static final String ACCESS_KEY = "s3proxy-access-key";
  static final String SECRET_KEY = "s3proxy-secret-key";
  static final String REGION = "us-east-1";

  private static final Path HOME = Path.of("target", "s3proxy").toAbsolutePath();
  private static final Path JAR = HOME.resolve("s3proxy.jar");
  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Process process;
  private final Path dir;
  private final URI endpoint;
  private final String bucket;

  private S3ProxyFixture(Process process, Path dir, URI endpoint, String bucket) {
    this.process = process;
    this.dir = dir;
    this.endpoint = endpoint;
    this.bucket = bucket;
  }

  /** Whether the build has copied S3Proxy's jar into {@code target/s3proxy/}. */
  static boolean installed() {
    return Files.isRegularFile(JAR);
  }

  /** Starts S3Proxy with a fresh bucket, or skips the calling test where its jar is missing. */
  static S3ProxyFixture start() {
    assumeTrue(installed(), "S3Proxy is not at " + JAR + ": the Maven build copies it there");
    String id = UUID.randomUUID().toString();
    String bucket = "contract-" + id.substring(0, 8);
    Path dir = HOME.resolve(id);
    Path data = dir.resolve("data");
    URI endpoint = URI.create("http://127.0.0.1:" + freePort());
    Process process;
    try {
      Files.createDirectories(data);
      Path properties = dir.resolve("s3proxy.properties");
      Files.write(
          properties,
          List.of(
              "s3proxy.endpoint=" + endpoint,
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + ACCESS_KEY,
              "s3proxy.credential=" + SECRET_KEY,
              "jclouds.provider=filesystem-nio2",
              "jclouds.filesystem.basedir=" + data),
          StandardCharsets.UTF_8);
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-jar",
                  JAR.toString(),
                  "--properties",
                  properties.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("s3proxy.log").toFile());
      builder.environment().put("LOG_LEVEL", "warn");
      builder.environment().put("JETTY_LOG_LEVEL", "warn");
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    S3ProxyFixture fixture = new S3ProxyFixture(process, dir, endpoint, bucket);
    try {
      fixture.awaitAnswer();
      try (S3AsyncClient admin = fixture.adminClient()) {
        admin.createBucket(r -> r.bucket(bucket)).join();
      }
    } catch (RuntimeException | Error e) {
      fixture.close();
      throw e;
    }
    return fixture;
  }

  /** The plain-HTTP endpoint, e.g. {@code http://127.0.0.1:41234}. */
  URI endpoint() {
    return endpoint;
  }

  String bucket() {
    return bucket;
  }

  /** A store configuration for this server: path-style, its key pair, no trailing checksums. */
  S3StoreConfig.Builder storeConfig() {
    return S3StoreConfig.builder()
        .bucket(bucket)
        .endpointOverride(endpoint)
        .region(REGION)
        .pathStyleAccess(true)
        .credentials(ACCESS_KEY, SECRET_KEY)
        .checksumMode(S3StoreConfig.ChecksumMode.WHEN_REQUIRED);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteTree(dir.resolve("data"));
  }

  private S3AsyncClient adminClient() {
    return S3AsyncClient.builder()
        .endpointOverride(endpoint)
        .region(Region.of(REGION))
        .forcePathStyle(true)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  /** Waits until the server answers HTTP at all (an unsigned request gets an S3 error). */
  private void awaitAnswer() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "S3Proxy exited with " + process.exitValue() + " before answering:\n" + logTail());
      }
      try {
        http.send(
            HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(1)).build(),
            HttpResponse.BodyHandlers.discarding());
        return;
      } catch (IOException e) {
        sleep(Duration.ofMillis(100));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while S3Proxy started", e);
      }
    }
    throw new IllegalStateException(
        "S3Proxy did not answer at " + endpoint + " within " + STARTUP + ":\n" + logTail());
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("s3proxy.log"), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while S3Proxy started", e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
