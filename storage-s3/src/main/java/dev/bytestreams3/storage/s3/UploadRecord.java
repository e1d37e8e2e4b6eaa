package dev.bytestreams3.storage.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The small object that ties an upload to its S3 multipart upload and makes it verifiable on any
 * process: the S3 UploadId, the part size, and the hash state after each part that may not yet be
 * known complete. Written after every part is cut, before S3 confirms it; a part counts as
 * committed only when S3 lists it complete AND the record holds the hash state after it, so a
 * crash between the two steps can only make the committed size smaller, never wrong.
 *
 * <p>Format: Java properties text, {@code key}, {@code uploadId}, {@code s3UploadId}, {@code
 * partSizeBytes}, {@code hashFunction} (absent for unverified uploads) and {@code
 * state.<partNumber>} (base64), with states pruned below the last part known complete.
 */
record UploadRecord(
    String key,
    String uploadId,
    String s3UploadId,
    long partSizeBytes,
    Optional<String> hashFunction,
    NavigableMap<Integer, byte[]> states) {

  UploadRecord {
    states = new TreeMap<>(states);
  }

  byte[] toBytes() {
    Properties p = new Properties();
    p.setProperty("key", key);
    p.setProperty("uploadId", uploadId);
    p.setProperty("s3UploadId", s3UploadId);
    p.setProperty("partSizeBytes", Long.toString(partSizeBytes));
    hashFunction.ifPresent(h -> p.setProperty("hashFunction", h));
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
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable upload record", e);
    }
    NavigableMap<Integer, byte[]> states = new TreeMap<>();
    for (String name : p.stringPropertyNames()) {
      if (name.startsWith("state.")) {
        states.put(
            Integer.parseInt(name.substring("state.".length())),
            Base64.getDecoder().decode(p.getProperty(name)));
      }
    }
    String key = p.getProperty("key");
    String uploadId = p.getProperty("uploadId");
    String s3UploadId = p.getProperty("s3UploadId");
    String partSize = p.getProperty("partSizeBytes");
    if (key == null || uploadId == null || s3UploadId == null || partSize == null) {
      throw new IllegalArgumentException("upload record lacks key, uploadId, s3UploadId or partSizeBytes");
    }
    return new UploadRecord(
        key,
        uploadId,
        s3UploadId,
        Long.parseLong(partSize),
        Optional.ofNullable(p.getProperty("hashFunction")),
        states);
  }

  /**
   * The number of parts that count as committed, given the full-size parts S3 lists complete
   * ({@code listed}, sorted): the contiguous run from part 1, cut back to the last part whose hash
   * state this record holds when the upload is verified.
   */
  int committedParts(List<Integer> listed) {
    int run = 0;
    for (int n : listed) {
      if (n != run + 1) {
        break;
      }
      run = n;
    }
    if (hashFunction.isEmpty()) {
      return run;
    }
    Integer withState = states.floorKey(run);
    return withState == null ? 0 : withState;
  }
}
