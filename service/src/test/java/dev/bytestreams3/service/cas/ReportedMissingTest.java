package dev.bytestreams3.service.cas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.local.LocalBlobStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob the store just reported absent spares the first upload of it its existence check, for a
 * short while and once, and never once the blob was stored through the server.
 */
class ReportedMissingTest {

  @TempDir Path dir;
  private final ExistenceLifecycleTest.TestClock clock = new ExistenceLifecycleTest.TestClock();
  private LocalBlobStore store;
  private final StoredBlob blob = new StoredBlob(BlobKey.of("ci/cas/sha256/abcd"), 3);

  @BeforeEach
  void open() {
    store = new LocalBlobStore(dir, 1 << 20, 2);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private void askStore(BlobPresence presence) throws Exception {
    assertThat(presence.missing(List.of(blob)).get(10, TimeUnit.SECONDS)).containsExactly(blob);
  }

  @Test
  void absentAnswer_sparesTheNextUploadItsQuestion_once() throws Exception {
    BlobPresence presence = new BlobPresence(store, 100, 2, Duration.ofHours(1), clock);
    assertThat(presence.reportedMissing(blob)).isFalse();
    askStore(presence);
    assertThat(presence.reportedMissing(new StoredBlob(blob.key(), 4))).isFalse();
    assertThat(presence.reportedMissing(blob)).isTrue();
    assertThat(presence.reportedMissing(blob)).isFalse();
    assertThat(presence.missingHits()).isEqualTo(1);
  }

  @Test
  void absentAnswer_expiresAfterTwoMinutes() throws Exception {
    BlobPresence presence = new BlobPresence(store, 100, 2, Duration.ofHours(1), clock);
    askStore(presence);
    clock.advance(BlobPresence.MISSING_TTL);
    assertThat(presence.reportedMissing(blob)).isFalse();
  }

  @Test
  void blobStoredSince_isAskedAboutAgain() throws Exception {
    BlobPresence presence = new BlobPresence(store, 100, 2, Duration.ofHours(1), clock);
    askStore(presence);
    store.put(blob.key(), ByteBuffer.wrap(new byte[3])).get(10, TimeUnit.SECONDS);
    presence.markPresent(blob.key(), 3);
    assertThat(presence.reportedMissing(blob)).isFalse();
  }

  @Test
  void withoutAnExistenceCache_nothingIsRemembered() throws Exception {
    BlobPresence presence = new BlobPresence(store, 0, 2, Duration.ofHours(1), clock);
    askStore(presence);
    assertThat(presence.reportedMissing(blob)).isFalse();
  }
}
