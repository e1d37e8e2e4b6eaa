package dev.bytestreams3.storage;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Prints how fast each SHA-256 here hashes, in MiB/s: the JDK's {@code MessageDigest} for
 * reference, Bouncy Castle, and {@link Sha256#FUNCTION}, fed 16 KiB heap buffers as a write's
 * messages arrive and saving the state every 5 MiB as a store does after each part. A measurement,
 * not a test. Run it with the test classpath:
 *
 * <pre>
 * ./mvnw -B -q -pl storage test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --add-opens=java.base/sun.security.provider=ALL-UNNAMED \
 *     -cp storage/target/classes:storage/target/test-classes:$(cat storage/target/cp.txt) \
 *     dev.bytestreams3.storage.Sha256Throughput [MiB] [rounds]
 * </pre>
 */
final class Sha256Throughput {

  private static final int MESSAGE_BYTES = 16 * 1024;
  private static final long PART_BYTES = 5L << 20;

  private Sha256Throughput() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    byte[] message = new byte[MESSAGE_BYTES];
    new Random(1).nextBytes(message);
    long total = (long) mib << 20;
    System.out.println("Sha256.FUNCTION: " + Sha256.FUNCTION.implementation());
    for (int round = 1; round <= rounds; round++) {
      for (String name : List.of("MessageDigest", "bouncy-castle", "Sha256.FUNCTION")) {
        long start = System.nanoTime();
        byte[] digest =
            switch (name) {
              case "MessageDigest" -> messageDigest(message, total);
              case "bouncy-castle" -> hash(Sha256.bouncyCastle(), message, total);
              default -> hash(Sha256.FUNCTION, message, total);
            };
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            Locale.ROOT, "round %d %-16s %8.1f MiB/s (%02x..)%n",
            round, name, mib / seconds, digest[0]);
      }
    }
  }

  private static byte[] messageDigest(byte[] message, long total) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (long done = 0; done < total; done += message.length) {
      md.update(message);
    }
    return md.digest();
  }

  private static byte[] hash(Sha256 function, byte[] message, long total) {
    ContentHasher hasher = function.newHasher();
    ByteBuffer buffer = ByteBuffer.wrap(message);
    long sinceSave = 0;
    for (long done = 0; done < total; done += message.length) {
      hasher.update(buffer);
      sinceSave += message.length;
      if (sinceSave >= PART_BYTES) {
        hasher = function.restore(hasher.exportState());
        sinceSave = 0;
      }
    }
    return hasher.digest();
  }
}
