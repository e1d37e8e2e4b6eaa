package dev.bytestreams3.service.config;

import dev.bytestreams3.service.observe.LogFormat;
import dev.bytestreams3.service.security.TlsFiles;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the server is configured with; immutable. {@link ConfigLoader} builds it from flags,
 * environment variables and defaults, and lists every setting in {@code --help}.
 */
public record ServerConfig(
    String bindAddress,
    int grpcPort,
    int grpcStreamWindowBytes,
    Path dataDir,
    long memoryBudgetBytes,
    boolean objectOverwrite,
    Duration shutdownGrace,
    Duration uploadIdleTimeout,
    Optional<String> bucket,
    String keyPrefix,
    Optional<String> region,
    Optional<URI> endpoint,
    boolean pathStyleAccess,
    Optional<String> accessKeyId,
    Optional<String> secretAccessKey,
    String checksumMode,
    long partSizeBytes,
    int partsInFlight,
    int uploadRecordEveryParts,
    Duration uploadRecordEvery,
    long readSegmentBytes,
    int readSegmentsInFlight,
    int httpPort,
    Optional<Path> httpRulesFile,
    boolean httpIgnoreUnknownFields,
    boolean httpEmitUnpopulated,
    int httpMaxMessageBytes,
    Duration httpUnaryTimeout,
    LogFormat logFormat,
    Optional<Path> tlsCertFile,
    Optional<Path> tlsKeyFile,
    Optional<Path> tlsClientCaFile,
    Optional<Path> tokenFile,
    Optional<Set<String>> instanceNames,
    boolean actionCacheReadOnly,
    long maxBatchTotalSizeBytes,
    long maxCasBlobSizeBytes,
    long inlineOutputLimitBytes,
    int existenceCacheEntries,
    int existenceChecksInFlight,
    Duration writeFirstMessageTimeout,
    Duration streamIdleTimeout,
    GrpcConnectionLimits grpcConnections,
    Duration existenceCacheTtl,
    Duration expiryAge,
    Duration refreshThreshold,
    long maxDiskBytes,
    int s3MaxAttempts,
    Duration s3ResponseTimeout,
    Duration readinessCache,
    Duration readinessTimeout,
    Optional<Path> cacheDir,
    long cacheMaxBytes,
    Duration cacheActionResultsMaxAge) {

  /** Whether the bucket has an expiry rule the server must keep blobs in use from. */
  public boolean expires() {
    return !expiryAge.isZero();
  }

  /** Whether the HTTP port is on ({@code --http-port} is not -1). */
  public boolean servesHttp() {
    return httpPort >= 0;
  }

  /** The TLS files of both ports, when TLS is on. */
  public Optional<TlsFiles> tls() {
    return tlsCertFile.map(cert -> new TlsFiles(cert, tlsKeyFile.orElseThrow(), tlsClientCaFile));
  }

  /** Whether a local disk tier is in front of the store ({@code --cache-dir} is set). */
  public boolean tiered() {
    return cacheDir.isPresent();
  }

  /** Whether blobs go to S3 (a bucket is set) rather than the local folder. */
  public boolean usesS3() {
    return bucket.isPresent();
  }

  /** Hides the secret key, so the configuration can be logged. */
  @Override
  public String toString() {
    return "ServerConfig[bind=" + bindAddress + ":" + grpcPort
        + (servesHttp() ? ", http=" + httpPort : ", http=off")
        + (usesS3()
            ? ", store=s3://" + bucket.get() + "/" + keyPrefix
                + endpoint.map(e -> " at " + e).orElse("")
            : ", store=local " + dataDir)
        + ", memoryBudgetBytes=" + memoryBudgetBytes + ", partSizeBytes=" + partSizeBytes
        + ", partsInFlight=" + partsInFlight
        + ", tls=" + (tlsCertFile.isEmpty() ? "off" : tlsClientCaFile.isPresent() ? "mutual" : "on")
        + ", tokens=" + tokenFile.map(Path::toString).orElse("off")
        + instanceNames.map(n -> ", instances=" + n).orElse("")
        + (actionCacheReadOnly ? ", actionCache=read-only" : "")
        + ", existenceCacheTtl=" + existenceCacheTtl
        + (expires() ? ", expiryAge=" + expiryAge + ", refreshThreshold=" + refreshThreshold : "")
        + (usesS3() ? "" : ", maxDiskBytes=" + (maxDiskBytes == 0 ? "default" : maxDiskBytes))
        + cacheDir.map(d -> ", cacheDir=" + d + ", cacheMaxBytes="
            + (cacheMaxBytes == 0 ? "default" : cacheMaxBytes)
            + (cacheActionResultsMaxAge.isZero()
                ? ""
                : ", cacheActionResultsMaxAge=" + cacheActionResultsMaxAge)).orElse("")
        + "]";
  }
}
