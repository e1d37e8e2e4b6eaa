package dev.bytestreams3.storage;

import dev.bytestreams3.storage.local.LocalBlobStore;
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
 * The store contract on the local tier in front of the local-filesystem store, each store
 * instance with a tier folder of its own, as each replica has. The keys are CAS keys, so every
 * read and write passes through the tier; their hashes are random, so what the tier keeps fails
 * its check when served and is refilled, and the bytes read must still be the store's.
 */
class TieredLocalBlobStoreContractTest extends LocalBlobStoreContractTest {

  @TempDir Path tiers;

  private final Random random = new Random(7);

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
  protected String backendName() {
    return "local tier over " + super.backendName();
  }
}
