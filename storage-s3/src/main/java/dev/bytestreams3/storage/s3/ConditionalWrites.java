package dev.bytestreams3.storage.s3;

/**
 * Which conditions on PutObject the store honours, as a probe found at start-up. AWS S3 honours
 * both; Ceph RGW 16.2 honours {@code If-Match} only with the ETag sent without its quotes; a store
 * that ignores them gets record writes without conditions, and keeps integrity (a hash state counts
 * only for the part whose ETag S3 lists) but not one writer at a time.
 *
 * @param ifNoneMatch whether {@code If-None-Match: *} refuses to replace an object
 * @param ifMatch whether {@code If-Match} refuses to replace an object with another ETag
 * @param unquotedETag whether {@code If-Match} matches only an ETag sent without its quotes
 */
record ConditionalWrites(boolean ifNoneMatch, boolean ifMatch, boolean unquotedETag) {

  static final ConditionalWrites NONE = new ConditionalWrites(false, false, false);

  /** The value of an {@code If-Match} header for {@code eTag} as this store matches it. */
  String ifMatchValue(String eTag) {
    String bare = UploadRecord.unquoted(eTag);
    return unquotedETag ? bare : "\"" + bare + "\"";
  }

  /** For the start-up log. */
  String describe() {
    if (ifNoneMatch && ifMatch) {
      return "honours If-None-Match and If-Match on PutObject"
          + (unquotedETag ? " (If-Match with the ETag unquoted)" : "")
          + ": one writer at a time per upload";
    }
    return "does not honour "
        + (ifNoneMatch ? "If-Match" : ifMatch ? "If-None-Match" : "If-None-Match or If-Match")
        + " on PutObject: upload records are written without conditions; parts still count only"
        + " while S3 lists their recorded ETags, but two writers of one upload are not fenced";
  }
}
