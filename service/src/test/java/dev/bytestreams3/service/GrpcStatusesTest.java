package dev.bytestreams3.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.storage.StorageException;
import io.grpc.Status;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** What a client sees for the store's failures that it should retry. */
class GrpcStatusesTest {

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
