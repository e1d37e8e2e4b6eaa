package dev.bytestreams3.service.cas;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.bytestreams3.service.resource.BlobDigest;
import dev.bytestreams3.storage.HashFunction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/**
 * The GetTree page token: the directories a walk has still to visit, in order, and the first
 * bytes of the root digest it belongs to. It holds everything the walk needs, so any replica
 * continues from it without walking again from the root. URL-safe base64 of: a version byte, eight
 * bytes of the root hash, a count, then each directory's hash and size.
 */
final class TreePageToken {

  private static final int VERSION = 1;
  private static final int ROOT_PREFIX_BYTES = 8;
  /** The most characters a token of {@code maxDirectories} digests made with {@code function} has. */
  static int maxChars(HashFunction function, int maxDirectories) {
    // Per directory: the hash with its length byte, and a size of up to ten varint bytes.
    long entry = 1 + function.digestLength() + 10;
    long bytes = 1 + ROOT_PREFIX_BYTES + 5 + maxDirectories * entry;
    return (int) ((bytes + 2) / 3 * 4);
  }

  private TreePageToken() {}

  /** The token of a walk of {@code root} with {@code pending} still to visit. */
  static String encode(BlobDigest root, Collection<BlobDigest> pending) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      out.writeRawByte(VERSION);
      out.writeRawBytes(Arrays.copyOf(root.hashBytes(), ROOT_PREFIX_BYTES));
      out.writeUInt32NoTag(pending.size());
      for (BlobDigest d : pending) {
        out.writeByteArrayNoTag(d.hashBytes());
        out.writeUInt64NoTag(d.size());
      }
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory does not fail", e);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
  }

  /**
   * The directories still to visit of the walk of {@code root} that {@code token} continues.
   *
   * @throws IllegalArgumentException when the token is too long, malformed, or belongs to the walk
   *     of another root; the message never repeats the token
   */
  static List<BlobDigest> decode(String token, BlobDigest root, int maxDirectories) {
    int maxChars = maxChars(root.function(), maxDirectories);
    if (token.length() > maxChars) {
      throw new IllegalArgumentException(
          "page_token is " + token.length() + " characters (expected: <= " + maxChars
              + ", as issued by this server)");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw notIssued();
    }
    HashFunction function = root.function();
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      if (in.readRawByte() != VERSION) {
        throw notIssued();
      }
      byte[] rootPrefix = in.readRawBytes(ROOT_PREFIX_BYTES);
      if (!Arrays.equals(rootPrefix, Arrays.copyOf(root.hashBytes(), ROOT_PREFIX_BYTES))) {
        throw new IllegalArgumentException(
            "page_token belongs to the tree of another root_digest (expected: a token issued for "
                + root + ")");
      }
      int count = in.readUInt32();
      if (count < 1 || count > maxDirectories) {
        throw notIssued();
      }
      List<BlobDigest> pending = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        byte[] hash = in.readByteArray();
        long size = in.readUInt64();
        if (hash.length != function.digestLength() || size < 0) {
          throw notIssued();
        }
        pending.add(new BlobDigest(function, HexFormat.of().formatHex(hash), size));
      }
      if (!in.isAtEnd()) {
        throw notIssued();
      }
      return pending;
    } catch (IOException e) {
      throw notIssued();
    }
  }

  private static IllegalArgumentException notIssued() {
    return new IllegalArgumentException("page_token was not issued by this server");
  }
}
