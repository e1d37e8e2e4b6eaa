package dev.bytestreams3.service.bytestream;

import static dev.bytestreams3.service.bytestream.ByteStreamClient.chunks;
import static dev.bytestreams3.service.bytestream.ByteStreamClient.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.InProcessCache;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two clients writing the same plain object at once, with overwrite denied: exactly one write
 * succeeds, the other fails with a code naming the conflict, and the object is one writer's bytes
 * whole.
 */
class ConcurrentObjectWritersTest {

  private static final int ROUNDS = 10;

  @TempDir Path dir;

  private InProcessCache cache;
  private ByteStreamClient client;
  private ExecutorService writers;

  @BeforeEach
  void start() throws Exception {
    cache = InProcessCache.start(dir, "--object-overwrite=false");
    client = new ByteStreamClient(cache.channel());
    writers = Executors.newFixedThreadPool(2);
  }

  @AfterEach
  void stop() throws Exception {
    writers.shutdownNow();
    writers.awaitTermination(10, TimeUnit.SECONDS);
    cache.close();
  }

  @Test
  void twoWritersOfOneObject_exactlyOneWins_theOtherIsAlreadyExistsOrAborted() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      String name = "files/race/" + round + ".bin";
      byte[][] contents = {randomBytes(1_000_000, 2 * round), randomBytes(1_200_000, 2 * round + 1)};
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Long>> results = new ArrayList<>();
      for (byte[] c : contents) {
        results.add(
            writers.submit(
                () -> {
                  go.await();
                  return client.write(chunks(name, c, 0, 32 * 1024, true)).getCommittedSize();
                }));
      }
      go.countDown();

      List<Long> won = new ArrayList<>();
      for (Future<Long> r : results) {
        try {
          won.add(r.get(60, TimeUnit.SECONDS));
        } catch (java.util.concurrent.ExecutionException e) {
          assertThat(e.getCause())
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  s -> {
                    assertThat(s.getStatus().getCode())
                        .isIn(Status.Code.ALREADY_EXISTS, Status.Code.ABORTED);
                    assertThat(s.getStatus().getDescription())
                        .doesNotContain("Exception")
                        .satisfiesAnyOf(
                            d -> assertThat(d).contains("already exists"),
                            d -> assertThat(d).contains("another write"));
                  });
        }
      }

      assertThat(won).as("round %d", round).hasSize(1);
      byte[] winner = won.get(0) == contents[0].length ? contents[0] : contents[1];
      assertThat(client.read(name, 0, 0)).as("round %d", round).isEqualTo(winner);
    }
  }
}
