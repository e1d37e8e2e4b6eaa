package dev.bytestreams3.storage.s3;

import dev.bytestreams3.storage.MemoryBudget;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/** The sending of one upload's parts to its S3 multipart upload, a bounded number at a time. */
final class PartPipeline {

  private final MultipartRequests multipart;
  private final UploadLedger ledger;
  private final Permits slots;
  private final Consumer<Throwable> onFailure;

  // Guarded by this.
  private CompletableFuture<String> s3UploadId;
  private final Set<CompletableFuture<?>> inFlight = new HashSet<>();
  private final Set<CompletableFuture<?>> requests = new HashSet<>();

  /**
   * Sends to {@code s3UploadId}, or to an upload it starts when that is null, at most {@code
   * partsInFlight} parts at once; a part that fails is reported to {@code onFailure}.
   */
  PartPipeline(
      MultipartRequests multipart, UploadLedger ledger, int partsInFlight, String s3UploadId,
      Consumer<Throwable> onFailure) {
    this.multipart = multipart;
    this.ledger = ledger;
    this.slots = new Permits(partsInFlight);
    this.onFailure = onFailure;
    this.s3UploadId = s3UploadId == null ? null : CompletableFuture.completedFuture(s3UploadId);
  }

  /** The UploadId of the S3 upload; null when none was started or resumed. */
  synchronized CompletableFuture<String> uploadId() {
    return s3UploadId;
  }

  /** Starts the S3 upload, unless it is started already. */
  synchronized void start() {
    if (s3UploadId == null) {
      s3UploadId = multipart.create();
    }
  }

  /**
   * Sends {@code body} as part {@code number} once a slot is free; completes when it is on its
   * way. The part's {@code reservation} is closed and its slot given back once it is both sent
   * and {@code hashed}.
   */
  CompletableFuture<Void> send(
      int number, ChunkedBuffer body, MemoryBudget.Reservation reservation,
      CompletableFuture<Void> hashed) {
    CompletableFuture<Void> slot = slots.acquire();
    // Given up while waiting for a slot: the bytes leave the budget once no longer hashed.
    slot.whenComplete(
        (v, err) -> {
          if (err != null) {
            hashed.whenComplete((x, e) -> reservation.close());
          }
        });
    return slot.thenAccept(
        v -> {
          CompletableFuture<Void> sent = uploadPart(number, body);
          synchronized (this) {
            inFlight.add(sent);
          }
          sent.whenComplete(
              (x, err) -> {
                synchronized (this) {
                  inFlight.remove(sent);
                }
              });
          CompletableFuture.allOf(sent, hashed)
              .whenComplete(
                  (x, err) -> {
                    reservation.close();
                    slots.release();
                  });
        });
  }

  private CompletableFuture<Void> uploadPart(int number, ChunkedBuffer body) {
    ReleasableBody content = new ReleasableBody(body.contents());
    CompletableFuture<String> id;
    synchronized (this) {
      id = s3UploadId;
    }
    CompletableFuture<Void> sent =
        id.thenCompose(
            uploadId -> {
              CompletableFuture<CompletedPart> request =
                  multipart.uploadPart(uploadId, number, content, body.contents(), body.size());
              synchronized (this) {
                requests.add(request);
              }
              request.whenComplete(
                  (r, err) -> {
                    synchronized (this) {
                      requests.remove(request);
                    }
                  });
              return request.thenAccept(part -> ledger.sent(number, part, uploadId));
            });
    sent.whenComplete(
        (v, err) -> {
          // The part's bytes are about to leave the budget, so nothing may keep them: not even the
          // SDK.
          content.release();
          if (err != null) {
            onFailure.accept(err);
          }
        });
    return sent;
  }

  /** Completes when every part on its way now has ended, however. */
  CompletableFuture<Void> sent() {
    List<CompletableFuture<?>> all;
    synchronized (this) {
      all = new ArrayList<>(inFlight);
    }
    return CompletableFuture.allOf(
        all.stream().map(f -> f.handle((x, e) -> null)).toArray(CompletableFuture[]::new));
  }

  /** Fails every part waiting for a slot with {@code error} and cancels every part on its way. */
  void cancel(Throwable error) {
    List<CompletableFuture<?>> cancel;
    synchronized (this) {
      cancel = new ArrayList<>(inFlight);
      cancel.addAll(requests);
    }
    slots.failWaiters(error);
    cancel.forEach(f -> f.cancel(true));
  }
}
