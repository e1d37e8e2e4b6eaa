package dev.bytestreams3.storage.s3;

import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.append;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.await;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.bytes;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.sha256;
import static dev.bytestreams3.storage.s3.S3UploadIntegrityTest.verified;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.MemoryBudget;
import dev.bytestreams3.storage.Upload;
import dev.bytestreams3.storage.UploadSpec;
import dev.bytestreams3.storage.UploadStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * Parts are bound to their SHA-256 additional checksums, not only their ETags: the record keeps
 * each part's checksum, and a resume does not count a part whose listed checksum is not the one
 * recorded, even when its ETag is (as ETags do not bind a part's bytes under SSE-KMS).
 */
class S3PartChecksumTest {

  private static final long PART = S3StoreConfig.MIN_PART_BYTES;

  private static S3MockFixture s3;

  private S3BlobStore store;
  private S3BlobStore other;

  @BeforeAll
  static void startS3() {
    s3 = S3MockFixture.start();
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  @BeforeEach
  void openStores() {
    String prefix = "part-checksums-" + UUID.randomUUID();
    store =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).build(), new MemoryBudget(64L << 20));
    other =
        S3BlobStore.create(
            s3.storeConfig().keyPrefix(prefix).partSizeBytes(PART).build(), new MemoryBudget(64L << 20));
  }

  @AfterEach
  void closeStores() {
    store.close();
    other.close();
  }

  @Test
  void record_holdsEachPartsSha256_besideItsETag_andAResumeCountsThem() throws Exception {
    byte[] x = bytes(2 * PART + 1000, 11);
    UploadSpec spec = verified(x);
    Upload w = await(store.openUpload(spec));
    append(w, x, 0, x.length);
    assertThat(await(w.suspend())).isEqualTo(2 * PART);

    UploadRecord record = await(store.records().read(spec)).orElseThrow().record();
    assertThat(record.sha256Parts()).isTrue();
    assertThat(record.etags()).containsOnlyKeys(1, 2);
    assertThat(record.checksums())
        .containsExactly(
            Map.entry(1, base64Sha256(Arrays.copyOfRange(x, 0, (int) PART))),
            Map.entry(2, base64Sha256(Arrays.copyOfRange(x, (int) PART, (int) (2 * PART)))));

    Upload again = await(other.openUpload(spec));
    assertThat(again.committedSize()).isEqualTo(2 * PART);
    append(again, x, 2 * PART, x.length);
    assertThat(await(again.finish())).isEqualTo(x.length);
    byte[] stored = await(other.get(spec.key(), Integer.MAX_VALUE)).array();
    assertThat(sha256(stored)).isEqualTo(sha256(x));
  }

  @Test
  void partReplacedAfterTheRecord_withItsETagStillRecorded_isNotCounted_byItsChecksum()
      throws Exception {
    byte[] x = bytes(2 * PART + 1000, 12);
    UploadSpec spec = verified(x);
    Upload w = await(store.openUpload(spec));
    append(w, x, 0, x.length);
    assertThat(await(w.suspend())).isEqualTo(2 * PART);
    StoredRecord stored = await(store.records().read(spec)).orElseThrow();
    UploadRecord record = stored.record();

    // Another party puts other bytes of the same size in part 1, and the ETag recorded for part 1
    // is the one S3 gave them: as when ETags do not bind bytes (SSE-KMS), only the checksum tells.
    byte[] replacement = bytes(PART, 13);
    String replacementSum = base64Sha256(replacement);
    String objectKey = store.keys().object(spec.key());
    String replacedETag =
        await(
                store.client().uploadPart(
                    r -> r.bucket(s3.bucket()).key(objectKey).uploadId(record.s3UploadId())
                        .partNumber(1).contentLength(PART)
                        .checksumSHA256(replacementSum),
                    AsyncRequestBody.fromBytes(replacement)))
            .eTag();
    TreeMap<Integer, String> etags = new TreeMap<>(record.etags());
    etags.put(1, replacedETag);

    // Without the checksum (a record written before part checksums), the ETag alone counts it.
    UploadRecord etagsOnly =
        new UploadRecord(
            record.key(), record.uploadId(), record.s3UploadId(), record.partSizeBytes(), "",
            record.hashFunction(), true, etags, new TreeMap<>(), record.states());
    String eTag = await(store.records().write(spec, etagsOnly, Optional.of(stored.eTag())));
    assertThat(await(other.queryUpload(spec))).isEqualTo(new UploadStatus(2 * PART, false, true));

    UploadRecord withChecksums =
        new UploadRecord(
            record.key(), record.uploadId(), record.s3UploadId(), record.partSizeBytes(), "",
            record.hashFunction(), true, etags, record.checksums(), record.states());
    await(store.records().write(spec, withChecksums, Optional.of(eTag)));
    assertThat(await(other.queryUpload(spec))).isEqualTo(new UploadStatus(0, false, true));

    Upload again = await(other.openUpload(spec));
    assertThat(again.committedSize()).isZero();
    append(again, x, 0, x.length);
    assertThat(await(again.finish())).isEqualTo(x.length);
    byte[] blob = await(other.get(spec.key(), Integer.MAX_VALUE)).array();
    assertThat(sha256(blob)).isEqualTo(sha256(x));
    assertThat(blob).isEqualTo(x);
  }

  @Test
  void recordWrittenBeforePartChecksums_parses_andCountsPartsByETag() {
    String old =
        "key=cas/abc\nuploadId=u-1\ns3UploadId=s3-1\npartSizeBytes=5242880\nwriter=w\n"
            + "etag.1=\"e1\"\netag.2=\"e2\"\n";
    UploadRecord record = UploadRecord.parse(old.getBytes(StandardCharsets.ISO_8859_1));
    assertThat(record.sha256Parts()).isFalse();
    assertThat(record.checksums()).isEmpty();
    Map<Integer, Part> listed =
        Map.of(
            1, Part.builder().partNumber(1).eTag("e1").checksumSHA256("c1").build(),
            2, Part.builder().partNumber(2).eTag("e2").build());
    assertThat(record.committedParts(listed)).isEqualTo(2);
    assertThat(record.checksumsUnlisted(listed)).isFalse();
  }

  @Test
  void recordRoundTrips_itsChecksums() {
    UploadRecord record =
        new UploadRecord(
            "cas/abc", "u-1", "s3-1", PART, "w", Optional.empty(), true,
            new TreeMap<>(Map.of(1, "\"e1\"", 2, "\"e2\"")), new TreeMap<>(Map.of(1, "c1", 2, "c2")),
            new TreeMap<>());
    UploadRecord parsed = UploadRecord.parse(record.toBytes());
    assertThat(parsed.sha256Parts()).isTrue();
    assertThat(parsed.checksums()).containsExactly(Map.entry(1, "c1"), Map.entry(2, "c2"));
    // Part 2's listed checksum is another: only part 1 counts. Unlisted: part 2 counts by ETag.
    assertThat(
            parsed.committedParts(
                Map.of(
                    1, Part.builder().eTag("e1").checksumSHA256("c1").build(),
                    2, Part.builder().eTag("e2").checksumSHA256("other").build())))
        .isEqualTo(1);
    Map<Integer, Part> unlisted =
        Map.of(1, Part.builder().eTag("e1").build(), 2, Part.builder().eTag("e2").build());
    assertThat(parsed.committedParts(unlisted)).isEqualTo(2);
    assertThat(parsed.checksumsUnlisted(unlisted)).isTrue();
  }

  private static String base64Sha256(byte[] b) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
