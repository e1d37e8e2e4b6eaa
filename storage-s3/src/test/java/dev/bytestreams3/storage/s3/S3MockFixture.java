package dev.bytestreams3.storage.s3;

import com.adobe.testing.s3mock.S3MockApplication;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.catalina.connector.Connector;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Adobe S3Mock running in this JVM on a loopback port of its own, with one empty bucket and its
 * files under {@code target/}, deleted on close: a real S3 protocol server for tests.
 */
public final class S3MockFixture implements AutoCloseable {

  /** The credentials S3Mock accepts (it checks none, but the SDK signs with them). */
  public static final String ACCESS_KEY = "s3mock-access-key";

  public static final String SECRET_KEY = "s3mock-secret-key";

  public static final String REGION = "us-east-1";

  private final ConfigurableApplicationContext context;
  private final URI endpoint;
  private final String bucket;
  private final Path root;

  private S3MockFixture(
      ConfigurableApplicationContext context, URI endpoint, String bucket, Path root) {
    this.context = context;
    this.root = root;
    this.endpoint = endpoint;
    this.bucket = bucket;
  }

  /** Starts S3Mock with a fresh bucket. */
  public static S3MockFixture start() {
    // Spring must not take over the JVM's logging: the project logs through SLF4J.
    System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
    String id = UUID.randomUUID().toString();
    String bucket = "test-" + id.substring(0, 8);
    Map<String, Object> props = new HashMap<>();
    props.put("server.port", 0);
    props.put("server.address", "127.0.0.1");
    props.put("http.port", 0);
    props.put("server.ssl.key-store", "classpath:s3mock.jks");
    props.put("server.ssl.key-store-password", "password");
    props.put("server.ssl.key-alias", "selfsigned");
    props.put("server.ssl.key-password", "password");
    Path root = Path.of("target", "s3mock", id).toAbsolutePath();
    try {
      // S3Mock creates only the last folder of its root.
      Files.createDirectories(root.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    props.put("com.adobe.testing.s3mock.store.root", root.toString());
    props.put("com.adobe.testing.s3mock.store.initial-buckets", bucket);
    props.put("com.adobe.testing.s3mock.store.retain-files-on-exit", false);
    props.put("com.adobe.testing.s3mock.max-payload-size", "128MB");
    props.put("logging.level.root", "WARN");
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(S3MockApplication.class, LoopbackOnly.class)
            .properties(props)
            .bannerMode(org.springframework.boot.Banner.Mode.OFF)
            .run();
    int port = ctx.getBean(S3MockApplication.class).getHttpPort();
    return new S3MockFixture(ctx, URI.create("http://127.0.0.1:" + port), bucket, root);
  }

  /** The plain-HTTP endpoint, e.g. {@code http://127.0.0.1:41234}. */
  public URI endpoint() {
    return endpoint;
  }

  public String bucket() {
    return bucket;
  }

  /** A store configuration for this server: path-style, static credentials, no trailing checksums. */
  public S3StoreConfig.Builder storeConfig() {
    return S3StoreConfig.builder()
        .bucket(bucket)
        .endpointOverride(endpoint)
        .region(REGION)
        .pathStyleAccess(true)
        .credentials(ACCESS_KEY, SECRET_KEY)
        .checksumMode(S3StoreConfig.ChecksumMode.WHEN_REQUIRED);
  }

  /** Stops S3Mock and deletes its files, which it would otherwise leave behind. */
  @Override
  public void close() {
    context.close();
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete S3Mock's files under " + root, e);
    }
  }

  /** Binds S3Mock's extra plain-HTTP connector to the loopback interface only. */
  @Configuration(proxyBeanMethods = false)
  static class LoopbackOnly {
    @Bean
    static BeanPostProcessor loopbackConnectors() {
      return new BeanPostProcessor() {
        @Override
        public Object postProcessBeforeInitialization(Object bean, String name) {
          if (bean instanceof Connector) {
            ((Connector) bean).setProperty("address", "127.0.0.1");
          }
          return bean;
        }
      };
    }
  }
}
