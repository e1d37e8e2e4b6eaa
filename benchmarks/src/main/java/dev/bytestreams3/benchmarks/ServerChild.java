package dev.bytestreams3.benchmarks;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.s3.S3BlobStore;
import dev.bytestreams3.storage.s3.S3MockFixture;
import dev.bytestreams3.storage.s3.S3StoreConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Our server alone in a JVM of its own, so that its heap can be measured: serves the S3 bucket
 * named by its arguments on a loopback port and answers one-line commands on standard input.
 *
 * <ul>
 *   <li>{@code MARK}: collects garbage and answers {@code LIVE <bytes>}, the heap still in use.
 *   <li>{@code REPORT}: answers {@code PEAK <after-gc bytes> <budget peak bytes> <budget bytes>}:
 *       the most heap any collection left in use, the most the memory budget ever lent out.
 *   <li>{@code STOP} (or end of input): stops the server and exits.
 * </ul>
 *
 * <p>Arguments: endpoint, bucket.
 */
public final class ServerChild {

  private ServerChild() {}

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    String bucket = args[1];
    // The server's own default: a quarter of the heap for buffers and read-ahead.
    MemoryBudget budget = new MemoryBudget(Runtime.getRuntime().maxMemory() / 4);
    S3StoreConfig config =
        S3StoreConfig.builder()
            .bucket(bucket)
            .endpointOverride(endpoint)
            .region(S3MockFixture.REGION)
            .pathStyleAccess(true)
            .credentials(S3MockFixture.ACCESS_KEY, S3MockFixture.SECRET_KEY)
            .build();
    AtomicLong peakAfterGc = new AtomicLong();
    watchCollections(peakAfterGc);
    try (S3BlobStore store = S3BlobStore.create(config, budget)) {
      CacheServer server = CacheServer.start("127.0.0.1", 0, store, true);
      System.out.println("READY " + server.port() + " " + budget.capacityBytes());
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null && !line.equals("STOP"); ) {
        if (line.equals("MARK")) {
          System.gc();
          MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
          System.out.println("LIVE " + heap.getUsed() + " " + budget.usedBytes());
        } else if (line.equals("REPORT")) {
          System.out.println(
              "PEAK " + peakAfterGc.get() + " " + budget.peakBytes() + " " + budget.capacityBytes());
        }
        System.out.flush();
      }
      server.shutdown(Duration.ofSeconds(2));
    }
    System.exit(0);
  }

  /** Keeps in {@code peak} the most heap any collection left in use. */
  private static void watchCollections(AtomicLong peak) {
    Set<String> heapPools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(MemoryPoolMXBean::getName)
            .collect(Collectors.toSet());
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc)
          .addNotificationListener(
              (n, h) -> {
                if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                  return;
                }
                GarbageCollectionNotificationInfo info =
                    GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used =
                    info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                        .filter(e -> heapPools.contains(e.getKey()))
                        .mapToLong(e -> e.getValue().getUsed())
                        .sum();
                peak.accumulateAndGet(used, Math::max);
              },
              null,
              null);
    }
  }
}
