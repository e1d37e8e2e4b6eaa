package dev.bytestreams3.storage.s3;

/** An upload record as read, with the ETag S3 gave it: the condition of the next write. */
record StoredRecord(UploadRecord record, String eTag) {}
