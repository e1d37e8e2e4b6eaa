package dev.bytestreams3.service.security;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.GrpcStatuses;
import dev.bytestreams3.service.resource.ClientText;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.service.security.AccessRules.Need;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Bearer-token authentication and per-name authorization. A call without a known token ends with
 * {@code UNAUTHENTICATED}; a call whose first request names something its token may not read or
 * write ends with {@code PERMISSION_DENIED} before the service sees that request. Messages name
 * the method and the instance, never the token.
 */
public final class TokenAuthInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final String BEARER = "Bearer ";

  private final Supplier<TokenTable> tokens;
  private final AccessRules rules;

  /**
   * @param tokens the tokens in force, asked on every call (a {@link TokenFile} reloads them)
   */
  public TokenAuthInterceptor(Supplier<TokenTable> tokens, ResourceNameParser names) {
    this.tokens = requireNonNull(tokens, "tokens");
    this.rules = new AccessRules(names);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Need need = rules.needOf(method);
    if (need == Need.NOTHING) {
      return next.startCall(call, headers);
    }
    Iterable<String> all = headers.getAll(AUTHORIZATION);
    String header = null;
    if (all != null) {
      for (String h : all) {
        if (header != null) {
          // Proxies disagree on which of two headers counts; refuse rather than guess.
          return refuse(
              call,
              Status.UNAUTHENTICATED.withDescription(
                  "more than one authorization header (expected: exactly one)"));
        }
        header = h;
      }
    }
    if (header == null) {
      return refuse(
          call,
          Status.UNAUTHENTICATED.withDescription(
              "no bearer token: send the header 'authorization: Bearer <token>'"));
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return refuse(
          call,
          Status.UNAUTHENTICATED.withDescription(
              "the authorization header is not a bearer token (expected: 'Bearer <token>')"));
    }
    Optional<TokenTable.Grants> grants =
        tokens.get().grantsOf(header.substring(BEARER.length()).strip());
    if (grants.isEmpty()) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("unknown bearer token"));
    }
    if (need == Need.UNLISTED) {
      return refuse(
          call,
          Status.PERMISSION_DENIED.withDescription(
              method + " is not available when token authentication is on"));
    }
    if (need == Need.ANY_TOKEN) {
      return next.startCall(call, headers);
    }
    Right.Access access = need == Need.WRITE ? Right.Access.WRITE : Right.Access.READ;
    if (!grants.get().allowsAnywhere(access)) {
      // Refused before the service starts the call, so it reserves nothing for it.
      return refuse(
          call,
          Status.PERMISSION_DENIED.withDescription(
              "the token may not " + verb(access) + " anything (" + method + ")"));
    }
    return new Checked<>(next.startCall(call, headers), call, grants.get(), access, method);
  }

  private static String verb(Right.Access access) {
    return access == Right.Access.WRITE ? "write" : "read";
  }

  private static <ReqT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, ?> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Checks the first request of a call before the service sees any. */
  private final class Checked<ReqT> extends SimpleForwardingServerCallListener<ReqT> {
    private final ServerCall<ReqT, ?> call;
    private final TokenTable.Grants grants;
    private final Right.Access access;
    private final String method;
    private boolean checked;
    private boolean refused;

    Checked(
        ServerCall.Listener<ReqT> delegate,
        ServerCall<ReqT, ?> call,
        TokenTable.Grants grants,
        Right.Access access,
        String method) {
      super(delegate);
      this.call = call;
      this.grants = grants;
      this.access = access;
      this.method = method;
    }

    @Override
    public void onMessage(ReqT message) {
      if (refused) {
        return;
      }
      if (!checked) {
        checked = true;
        Status denied = check(message);
        if (denied != null) {
          refused = true;
          call.close(denied, new Metadata());
          // The service started this call and may hold memory for it; to the service, a refused
          // call is a cancelled one, so it returns what it holds now.
          super.onCancel();
          return;
        }
      }
      super.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        super.onHalfClose();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        super.onReady();
      }
    }

    @Override
    public void onCancel() {
      if (!refused) {
        super.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!refused) {
        super.onComplete();
      }
    }

    private Status check(ReqT message) {
      Optional<String> scope;
      try {
        scope = rules.scopeOf(message);
      } catch (RuntimeException e) {
        return GrpcStatuses.of(e);
      }
      if (scope.isEmpty()) {
        return Status.PERMISSION_DENIED.withDescription(
            method + ": the request names no instance to check the token against");
      }
      if (grants.allow(scope.get(), access)) {
        return null;
      }
      return Status.PERMISSION_DENIED.withDescription(
          "the token may not " + verb(access) + " " + ClientText.quote(scope.get()) + " ("
              + method + ")");
    }
  }
}
