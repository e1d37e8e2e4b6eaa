package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import dev.bytestreams3.storage.UploadSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where things live in the bucket: a blob at {@code {prefix}{key}}, the record of an unfinished
 * upload at {@code {prefix}.uploads/{sha256(key + "\n" + uploadId)}}. A prefix that does not end
 * in a slash gets one, so that prefixes never run into keys.
 */
final class S3Keys {

  static final String RECORDS_FOLDER = ".uploads";

  private final String prefix;

  S3Keys(String keyPrefix) {
    this.prefix = keyPrefix.isEmpty() || keyPrefix.endsWith("/") ? keyPrefix : keyPrefix + "/";
  }

  /** The prefix every key of this store starts with. */
  String prefix() {
    return prefix;
  }

  /** The object key of the blob at {@code key}. */
  String object(BlobKey key) {
    if (key.value().equals(RECORDS_FOLDER) || key.value().startsWith(RECORDS_FOLDER + "/")) {
      throw new StorageException(
          Reason.INVALID_REQUEST, "key '" + key + "' is reserved for the store's upload records");
    }
    return prefix + key.value();
  }

  /** The folder under which every upload record lives. */
  String recordsFolder() {
    return prefix + RECORDS_FOLDER + "/";
  }

  /** The object key of the record of the upload {@code spec} describes. */
  String record(UploadSpec spec) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((spec.key().value() + "\n" + spec.uploadId()).getBytes(StandardCharsets.UTF_8));
      return recordsFolder() + HexFormat.of().formatHex(h);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
