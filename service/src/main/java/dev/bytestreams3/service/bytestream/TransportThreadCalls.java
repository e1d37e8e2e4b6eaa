package dev.bytestreams3.service.bytestream;

import com.google.bytestream.ByteStreamGrpc;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;

/**
 * Runs ByteStream calls on the transport's own thread and every other call on gRPC's default
 * executor.
 *
 * <p>A {@code Write} in 16 KiB messages delivers thousands of messages a second; handed to an
 * executor, each one wakes a second thread and costs two context switches, the largest single
 * cost of a small-message stream. The ByteStream handlers never block: every step that waits for
 * the store continues in a future, so running them where the bytes arrive is safe. Other services
 * keep the default executor, so no handler outside this package has to keep that promise.
 */
public final class TransportThreadCalls implements ServerCallExecutorSupplier {

  @Override
  public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
    String service = call.getMethodDescriptor().getServiceName();
    return ByteStreamGrpc.SERVICE_NAME.equals(service) ? MoreExecutors.directExecutor() : null;
  }
}
