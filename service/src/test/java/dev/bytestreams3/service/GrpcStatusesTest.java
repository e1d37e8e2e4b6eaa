package dev.bytestreams3.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.StorageException;
import dev.bytestreams3.storage.StorageException.Reason;
import io.grpc.Status;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The text a client reads: what it sent and what was wrong, not our keys or class names. */
class GrpcStatusesTest {

  private static final BlobKey KEY = BlobKey.of("objects/files/report.v2.pdf");

  @Test
  void notFound_namesTheResourceTheClientSent() {
    Status s = GrpcStatuses.of(
        new CompletionException(new StorageException(Reason.NOT_FOUND, KEY + " not found")),
        "files/report.v2.pdf", KEY);
    assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(s.getDescription()).isEqualTo("'files/report.v2.pdf' not found");
  }

  @Test
  void otherStorageMessages_haveTheKeyAndItsPrefixReplacedByTheName() {
    Status s = GrpcStatuses.of(
        new StorageException(Reason.OUT_OF_RANGE, "read_offset 9 is past the end of cache/" + KEY + " (3 bytes)"),
        "files/report.v2.pdf", KEY);
    assertThat(s.getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(s.getDescription()).isEqualTo("read_offset 9 is past the end of 'files/report.v2.pdf' (3 bytes)");
  }

  @Test
  void classNames_areLeftOutOfMessages() {
    Status storage = GrpcStatuses.of(new StorageException(
        Reason.INTERNAL, "reading part 3: java.nio.file.AccessDeniedException: the disk said no"));
    assertThat(storage.getDescription()).isEqualTo("reading part 3: the disk said no");

    Status unexpected = GrpcStatuses.of(new IllegalStateException("the pump stopped"));
    assertThat(unexpected.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(unexpected.getDescription()).isEqualTo("internal error: the pump stopped");

    Status noMessage = GrpcStatuses.of(new IOException());
    assertThat(noMessage.getDescription()).isEqualTo("internal error");

    // Names of messages of the API are not class names of ours, and stay.
    Status named = GrpcStatuses.of(new StorageException(
        Reason.INVALID_REQUEST, "build.bazel.remote.execution.v2.Digest of size -1"));
    assertThat(named.getDescription()).isEqualTo("build.bazel.remote.execution.v2.Digest of size -1");
  }

  @Test
  void conflictWithAnotherWriter_isAborted_withTheStoresMessage() {
    Status s =
        GrpcStatuses.of(
            new CompletionException(
                new StorageException(
                    StorageException.Reason.CONFLICT,
                    "another writer holds the upload of main/cas/sha256/ab12")));
    assertThat(s.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(s.getDescription()).isEqualTo("another writer holds the upload of main/cas/sha256/ab12");
  }

  @Test
  void corruptUploadRecord_isInternal_notInvalidArgument() {
    Status s =
        GrpcStatuses.of(
            new StorageException(
                StorageException.Reason.INTERNAL, "the upload record of main/cas/x is corrupt"));
    assertThat(s.getCode()).isEqualTo(Status.Code.INTERNAL);
  }
}
