package dev.bytestreams3.storage.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * The small object that ties an upload to its S3 multipart upload and makes it verifiable on any
 * process: the S3 UploadId, the part size, the ETag of every part from the first that S3 confirmed
 * and that was hashed, and the hash state after the last of them. An entry for part {@code k} is
 * written only once both its UploadPart and its hashing succeeded, so a state never describes bytes
 * S3 does not hold; a part counts as committed only while ListParts reports the very ETag recorded
 * for it and, where the record holds the part's SHA-256 checksum and ListParts reports one, that
 * very checksum, so a part replaced afterwards by another writer counts for nothing.
 *
 * <p>Format: Java properties text, {@code key}, {@code uploadId}, {@code s3UploadId}, {@code
 * partSizeBytes}, {@code writer} (a token of the writer that wrote it, so two writers never write
 * the same bytes and a conditional write tells them apart), {@code hashFunction} (absent for
 * unverified uploads), {@code sha256Parts} ({@code true} when the S3 upload was created declaring
 * SHA-256 part checksums; absent in records written before part checksums), {@code
 * etag.<partNumber>}, {@code sha256.<partNumber>} (the part's base64 SHA-256 as S3 answered it;
 * absent when S3 answered none, and then the part is bound by its ETag alone) and {@code
 * state.<partNumber>} (base64).
 */
record UploadRecord(
    String key,
    String uploadId,
    String s3UploadId,
    long partSizeBytes,
    String writer,
    Optional<String> hashFunction,
    boolean sha256Parts,
    NavigableMap<Integer, String> etags,
    NavigableMap<Integer, String> checksums,
    NavigableMap<Integer, byte[]> states) {

  UploadRecord {
    etags = new TreeMap<>(etags);
    checksums = new TreeMap<>(checksums);
    states = new TreeMap<>(states);
  }

  byte[] toBytes() {
    Properties p = new Properties();
    p.setProperty("key", key);
    p.setProperty("uploadId", uploadId);
    p.setProperty("s3UploadId", s3UploadId);
    p.setProperty("partSizeBytes", Long.toString(partSizeBytes));
    p.setProperty("writer", writer);
    hashFunction.ifPresent(h -> p.setProperty("hashFunction", h));
    if (sha256Parts) {
      p.setProperty("sha256Parts", "true");
    }
    for (Map.Entry<Integer, String> e : etags.entrySet()) {
      p.setProperty("etag." + e.getKey(), e.getValue());
    }
    for (Map.Entry<Integer, String> e : checksums.entrySet()) {
      p.setProperty("sha256." + e.getKey(), e.getValue());
    }
    for (Map.Entry<Integer, byte[]> e : states.entrySet()) {
      p.setProperty("state." + e.getKey(), Base64.getEncoder().encodeToString(e.getValue()));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      p.store(out, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Parses a record.
   *
   * @throws IllegalArgumentException when {@code bytes} is not one
   */
  static UploadRecord parse(byte[] bytes) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(new String(bytes, StandardCharsets.ISO_8859_1)));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("unreadable upload record", e);
    }
    NavigableMap<Integer, String> etags = new TreeMap<>();
    NavigableMap<Integer, String> checksums = new TreeMap<>();
    NavigableMap<Integer, byte[]> states = new TreeMap<>();
    try {
      for (String name : p.stringPropertyNames()) {
        if (name.startsWith("state.")) {
          states.put(
              partNumber(name.substring("state.".length())),
              Base64.getDecoder().decode(p.getProperty(name)));
        } else if (name.startsWith("etag.")) {
          etags.put(partNumber(name.substring("etag.".length())), p.getProperty(name));
        } else if (name.startsWith("sha256.")) {
          checksums.put(partNumber(name.substring("sha256.".length())), p.getProperty(name));
        }
      }
      String key = p.getProperty("key");
      String uploadId = p.getProperty("uploadId");
      String s3UploadId = p.getProperty("s3UploadId");
      String partSize = p.getProperty("partSizeBytes");
      if (key == null || uploadId == null || s3UploadId == null || partSize == null) {
        throw new IllegalArgumentException(
            "upload record lacks key, uploadId, s3UploadId or partSizeBytes");
      }
      long partSizeBytes = Long.parseLong(partSize);
      if (partSizeBytes <= 0) {
        throw new IllegalArgumentException("partSizeBytes: " + partSizeBytes + " (expected: > 0)");
      }
      return new UploadRecord(
          key,
          uploadId,
          s3UploadId,
          partSizeBytes,
          p.getProperty("writer", ""),
          Optional.ofNullable(p.getProperty("hashFunction")),
          Boolean.parseBoolean(p.getProperty("sha256Parts", "false")),
          etags,
          checksums,
          states);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("upload record has a malformed number: " + e.getMessage(), e);
    }
  }

  private static int partNumber(String s) {
    int n = Integer.parseInt(s);
    if (n < 1 || n > S3Upload.MAX_PARTS) {
      throw new IllegalArgumentException("part number " + n + " is outside 1.." + S3Upload.MAX_PARTS);
    }
    return n;
  }

  /**
   * The number of parts that count as committed, given the full-size parts S3 lists complete
   * ({@code listed}, by part number): the run from part 1 whose listed ETag is the one recorded
   * and whose listed SHA-256 checksum, where both the record and the listing have one, is the one
   * recorded; cut back to the last part whose hash state this record holds when the upload is
   * verified.
   */
  int committedParts(Map<Integer, Part> listed) {
    int run = 0;
    while (true) {
      String recorded = etags.get(run + 1);
      Part found = listed.get(run + 1);
      if (recorded == null || found == null || found.eTag() == null
          || !sameETag(recorded, found.eTag())) {
        break;
      }
      String recordedSum = checksums.get(run + 1);
      if (recordedSum != null && found.checksumSHA256() != null
          && !recordedSum.equals(found.checksumSHA256())) {
        break;
      }
      run++;
    }
    if (hashFunction.isEmpty()) {
      return run;
    }
    Integer withState = states.floorKey(run);
    return withState == null ? 0 : withState;
  }

  /**
   * Whether {@code listed} lacks a checksum for a part this record holds one for: the store took
   * and answered part checksums but does not list them, so those parts are bound by ETags alone.
   */
  boolean checksumsUnlisted(Map<Integer, Part> listed) {
    return checksums.entrySet().stream()
        .anyMatch(e -> listed.containsKey(e.getKey())
            && listed.get(e.getKey()).checksumSHA256() == null);
  }

  /**
   * Whether two ETags name the same part. ETags are opaque (not an MD5 under SSE-KMS or for
   * multipart objects), so only their text is compared, without the quotes some stores omit.
   */
  static boolean sameETag(String a, String b) {
    return unquoted(a).equals(unquoted(b));
  }

  static String unquoted(String etag) {
    return etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"")
        ? etag.substring(1, etag.length() - 1)
        : etag;
  }
}
