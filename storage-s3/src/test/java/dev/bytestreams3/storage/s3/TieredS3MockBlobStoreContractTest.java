package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.tier.CasKeys;
import dev.bytestreams3.storage.tier.TieredStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store contract on the local tier in front of S3Mock, each store instance with a tier folder
 * of its own, as each replica has. The keys are CAS keys with random hashes, so every read and
 * write passes through the tier, and what it keeps fails its check when served and is refilled:
 * the bytes read must still be S3's.
 */
class TieredS3MockBlobStoreContractTest extends S3MockBlobStoreContractTest {

  @TempDir Path tiers;

  private final Random random = new Random(11);

  @Override
  protected BlobStore openStore(MemoryBudget budget) {
    return new TieredStore(
        super.openStore(budget),
        new CasKeys(List.of(Sha256.FUNCTION)),
        tiers.resolve(UUID.randomUUID().toString()),
        OptionalLong.of(64L << 20),
        2,
        budget,
        Clock.systemUTC());
  }

  @Override
  protected BlobKey key() {
    byte[] hash = new byte[32];
    random.nextBytes(hash);
    return BlobKey.of("contract/cas/sha256/" + HexFormat.of().formatHex(hash));
  }

  @Override
  protected String serverName() {
    return "local tier over " + super.serverName();
  }
}
