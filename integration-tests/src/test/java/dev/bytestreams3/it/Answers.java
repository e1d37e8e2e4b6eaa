package dev.bytestreams3.it;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** The answer of a call with one response message, as a future. */
final class Answers {

  private Answers() {}

  /** An observer that completes {@code result} with the call's message, or with its failure. */
  static <T> StreamObserver<T> into(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
