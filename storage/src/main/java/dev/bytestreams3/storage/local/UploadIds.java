package dev.bytestreams3.storage.local;

import dev.bytestreams3.storage.UploadSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Names the folder of an upload from its key and upload id, safely and the same everywhere. */
final class UploadIds {

  private UploadIds() {}

  static String folderName(UploadSpec spec) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] h =
          md.digest((spec.key().value() + "\n" + spec.uploadId()).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
