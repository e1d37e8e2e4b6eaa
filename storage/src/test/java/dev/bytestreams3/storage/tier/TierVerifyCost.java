package dev.bytestreams3.storage.tier;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.BlobReader;
import dev.bytestreams3.storage.BlobStore;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Sha256;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Random;

/**
 * Prints what verifying a tier file costs: the time to the first byte and to the last of a read
 * served from the tier when the file must be hashed first (the first read after a restart) and
 * when it is unchanged since it was verified. A measurement, not a test. Run it with the test
 * classpath (see {@code Sha256Throughput} for how to build it):
 *
 * <pre>
 * java --add-opens=java.base/sun.security.provider=ALL-UNNAMED \
 *     -cp storage/target/classes:storage/target/test-classes:$(cat storage/target/cp.txt) \
 *     dev.bytestreams3.storage.tier.TierVerifyCost [MiB] [rounds]
 * </pre>
 */
final class TierVerifyCost {

  private TierVerifyCost() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path root = Files.createTempDirectory("tier-verify-cost");
    byte[] content = new byte[mib << 20];
    new Random(1).nextBytes(content);
    BlobKey key =
        BlobKey.of(
            "cas/sha256/"
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)));
    try (LocalBlobStore slow = new LocalBlobStore(root.resolve("store"), 4 << 20, 2)) {
      BlobStore first = tier(slow, root);
      first.put(key, ByteBuffer.wrap(content)).join();
      content = null;
      for (int i = 0; i < rounds; i++) {
        // A new tier over the same folder remembers nothing verified, as after a restart.
        TieredStore restarted = tier(slow, root);
        print("hashed first", read(restarted, key), mib);
        print("unchanged", read(restarted, key), mib);
      }
    }
  }

  private static TieredStore tier(BlobStore slow, Path root) {
    return new TieredStore(
        slow, new CasKeys(List.of(Sha256.FUNCTION)), root.resolve("tier"),
        OptionalLong.of(4L << 30), 2, new MemoryBudget(256L << 20),
        Clock.systemUTC());
  }

  /** Nanoseconds to the first chunk and to the end. */
  private static long[] read(BlobStore store, BlobKey key) throws Exception {
    long start = System.nanoTime();
    long firstByte = 0;
    try (BlobReader r = store.openReader(key, 0, 0).join()) {
      ByteBuffer chunk;
      while ((chunk = r.next().join()) != null) {
        if (firstByte == 0) {
          firstByte = System.nanoTime() - start;
        }
      }
    }
    return new long[] {firstByte, System.nanoTime() - start};
  }

  private static void print(String what, long[] ns, int mib) {
    System.out.println(
        String.format(
            Locale.ROOT, "%-13s first byte %7.1f ms, all %7.1f ms (%6.0f MiB/s)", what,
            ns[0] / 1e6, ns[1] / 1e6, mib / (ns[1] / 1e9)));
  }
}
