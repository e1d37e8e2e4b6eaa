package dev.bytestreams3.storage.local;

import static dev.bytestreams3.storage.local.TestUploads.append;
import static dev.bytestreams3.storage.local.TestUploads.await;
import static dev.bytestreams3.storage.local.TestUploads.bytes;
import static dev.bytestreams3.storage.local.TestUploads.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state file an upload resumes from: a whole one resumes it, one cut short (as a power loss may
 * leave a file that was renamed into place but not synced) starts it again from zero.
 */
class LocalUploadStateTest {

  @TempDir Path root;

  private final byte[] data = bytes(3 << 20, 7);

  /** Writes the first 2 MiB of {@code data} and suspends, so that a state counts them. */
  private UploadSpec suspendAfterTwoMiB() throws Exception {
    UploadSpec spec = verified("cas/s", data);
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2)) {
      Upload first = await(store.openUpload(spec));
      append(first, data, 0, 2 << 20, 256 * 1024);
      assertThat(await(first.suspend())).isEqualTo(2 << 20);
    }
    return spec;
  }

  private Path stateFile() throws Exception {
    try (Stream<Path> all = Files.walk(root.resolve("uploads"))) {
      return all.filter(p -> p.getFileName().toString().equals("state")).findFirst().orElseThrow();
    }
  }

  /** Resumes the upload, checks where from, writes the rest and checks the published blob. */
  private void resumeFrom(UploadSpec spec, long expectedCommitted) throws Exception {
    try (LocalBlobStore store = new LocalBlobStore(root, 1 << 20, 2)) {
      Upload next = await(store.openUpload(spec));
      assertThat(next.committedSize()).isEqualTo(expectedCommitted);
      append(next, data, (int) expectedCommitted, data.length, 256 * 1024);
      assertThat(await(next.finish())).isEqualTo(data.length);
    }
    assertThat(Files.readAllBytes(root.resolve("blobs/cas/s"))).isEqualTo(data);
  }

  @Test
  void aStateCutShort_isNoState_andTheUploadStartsAgainFromZero() throws Exception {
    UploadSpec spec = suspendAfterTwoMiB();
    Path state = stateFile();
    byte[] whole = Files.readAllBytes(state);
    Files.write(state, Arrays.copyOf(whole, whole.length - 6));

    resumeFrom(spec, 0);
  }

  @Test
  void everyPrefixOfAState_readsAsNoState_orAsTheWholeState() throws Exception {
    Path folder = Files.createDirectories(root.resolve("one"));
    LocalUpload.State written =
        new LocalUpload.State("cas/x", 12_345_678L, Optional.of(bytes(100, 9)));
    written.write(folder);
    Path state = folder.resolve("state");
    byte[] whole = Files.readAllBytes(state);
    assertThat(new String(whole, StandardCharsets.ISO_8859_1)).startsWith("check=");

    for (int n = 0; n < whole.length; n++) {
      Files.write(state, Arrays.copyOf(whole, n));
      LocalUpload.State read = LocalUpload.State.read(folder);
      if (read != null) {
        // Only the final newline may be missing from a state read as whole.
        assertThat(n).isEqualTo(whole.length - 1);
        assertThat(read.committedBytes()).isEqualTo(written.committedBytes());
        assertThat(read.hashState().orElseThrow()).isEqualTo(written.hashState().orElseThrow());
      }
    }
  }

  @Test
  void aStateWithAChangedCount_isNoState() throws Exception {
    UploadSpec spec = suspendAfterTwoMiB();
    Path state = stateFile();
    String text = Files.readString(state, StandardCharsets.ISO_8859_1);
    Files.writeString(
        state,
        text.replace("committedBytes=" + (2 << 20), "committedBytes=" + (1 << 20)),
        StandardCharsets.ISO_8859_1);

    resumeFrom(spec, 0);
  }

  @Test
  void aWholeState_resumesTheUpload_withOrWithoutAChecksum() throws Exception {
    UploadSpec spec = suspendAfterTwoMiB();
    Path state = stateFile();
    // A state written before states carried a checksum, which were synced, still resumes.
    List<String> lines = Files.readAllLines(state, StandardCharsets.ISO_8859_1);
    assertThat(lines).anyMatch(l -> l.startsWith("check="));
    Files.writeString(
        state,
        lines.stream().filter(l -> !l.startsWith("check=")).collect(Collectors.joining("\n")),
        StandardCharsets.ISO_8859_1);

    resumeFrom(spec, 2 << 20);
  }
}
