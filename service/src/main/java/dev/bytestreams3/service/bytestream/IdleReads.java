package dev.bytestreams3.service.bytestream;

import com.google.bytestream.ByteStreamProto.ReadResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.ScheduledFuture;

/**
 * The response side of one {@code Read}, watched for a client that takes nothing: when the
 * transport has not been ready for a message for {@link IdleLimits#progress()}, the read is ended
 * with {@code DEADLINE_EXCEEDED}, and the read's cancel handler runs first so it returns its
 * buffers and read-ahead. Time the store takes does not count: a transport that is ready is
 * waiting for the server, not for the client.
 */
final class IdleReads extends ServerCallStreamObserver<ReadResponse> {

  private final ServerCallStreamObserver<ReadResponse> call;
  private final IdleLimits idle;
  private Runnable onCancel;
  private long lastProgressNanos = System.nanoTime();
  private ScheduledFuture<?> check;
  private boolean ended;

  IdleReads(
      ServerCallStreamObserver<ReadResponse> call,
      IdleLimits idle) {
    this.call = call;
    this.idle = idle;
  }

  /** Starts watching. */
  IdleReads watch() {
    schedule(idle.progress().toNanos());
    return this;
  }

  private synchronized void schedule(long nanos) {
    if (!ended) {
      check = idle.after(nanos, this::check);
    }
  }

  private void check() {
    Runnable handler;
    synchronized (this) {
      if (ended) {
        return;
      }
      if (call.isReady()) {
        lastProgressNanos = System.nanoTime();
      }
      long idleFor = System.nanoTime() - lastProgressNanos;
      long limit = idle.progress().toNanos();
      if (idleFor < limit) {
        check = idle.after(limit - idleFor, this::check);
        return;
      }
      ended = true;
      handler = onCancel;
    }
    idle.countEnded();
    if (handler != null) {
      handler.run();
    }
    synchronized (this) {
      // Under the lock that sends: a message on its way cannot meet the close.
      call.onError(
          Status.DEADLINE_EXCEEDED
              .withDescription(
                  "the client read nothing for " + IdleLimits.words(idle.progress())
                      + "; the server ends streams idle that long")
              .asRuntimeException());
    }
  }

  private void stop() {
    ScheduledFuture<?> c;
    synchronized (this) {
      ended = true;
      c = check;
    }
    if (c != null) {
      c.cancel(false);
    }
  }

  @Override
  public synchronized void onNext(ReadResponse value) {
    lastProgressNanos = System.nanoTime();
    if (!ended) {
      call.onNext(value);
    }
  }

  @Override
  public void onError(Throwable t) {
    synchronized (this) {
      if (!ended) {
        call.onError(t);
      }
    }
    stop();
  }

  @Override
  public void onCompleted() {
    synchronized (this) {
      if (!ended) {
        call.onCompleted();
      }
    }
    stop();
  }

  @Override
  public boolean isReady() {
    return call.isReady();
  }

  @Override
  public boolean isCancelled() {
    return call.isCancelled();
  }

  @Override
  public void setOnReadyHandler(Runnable onReadyHandler) {
    call.setOnReadyHandler(onReadyHandler);
  }

  @Override
  public void setOnCancelHandler(Runnable onCancelHandler) {
    synchronized (this) {
      onCancel = onCancelHandler;
    }
    call.setOnCancelHandler(
        () -> {
          stop();
          onCancelHandler.run();
        });
  }

  @Override
  public void setCompression(String compression) {
    call.setCompression(compression);
  }

  @Override
  public void disableAutoInboundFlowControl() {
    call.disableAutoInboundFlowControl();
  }

  @Override
  public void disableAutoRequest() {
    call.disableAutoRequest();
  }

  @Override
  public void request(int count) {
    call.request(count);
  }

  @Override
  public void setMessageCompression(boolean enable) {
    call.setMessageCompression(enable);
  }

  @Override
  public void setOnCloseHandler(Runnable onCloseHandler) {
    call.setOnCloseHandler(onCloseHandler);
  }
}
