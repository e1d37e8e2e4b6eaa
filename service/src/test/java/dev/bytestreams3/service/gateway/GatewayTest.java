package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON gateway over real sockets: what curl or a script sees, byte for byte. */
class GatewayTest {

  @TempDir Path dir;

  private GatewayHarness h;

  private GatewayHarness start() throws Exception {
    return start(GatewaySettings.defaults());
  }

  private GatewayHarness start(GatewaySettings settings) throws Exception {
    h = new GatewayHarness(dir, settings, List.of(new EchoCas(), new EchoActionCache()), List.of(new DenyInterceptor()));
    return h;
  }

  @AfterEach
  void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  /** NDJSON WriteRequests carrying {@code data} in chunks of {@code chunk} bytes. */
  static String ndjson(String resource, byte[] data, int chunk, long firstOffset, boolean finish) {
    StringBuilder b = new StringBuilder();
    int off = 0;
    do {
      int n = Math.min(chunk, data.length - off);
      JsonObject o = new JsonObject();
      if (off == 0) {
        o.addProperty("resourceName", resource);
      }
      o.addProperty("writeOffset", Long.toString(firstOffset + off));
      o.addProperty("data", Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, off, off + n)));
      off += n;
      if (finish && off == data.length) {
        o.addProperty("finishWrite", true);
      }
      b.append(o).append('\n');
    } while (off < data.length);
    return b.toString();
  }

  /** Reads a ByteStream Read's NDJSON lines into bytes; fails on an error line. */
  static byte[] results(String body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String line : body.split("\n")) {
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      assertThat(o.has("result")).as("line %s", line).isTrue();
      JsonObject r = o.getAsJsonObject("result");
      if (r.has("data")) {
        out.writeBytes(Base64.getDecoder().decode(r.get("data").getAsString()));
      }
    }
    return out.toByteArray();
  }

  private byte[] readOverGrpc(String resource) {
    Iterator<ReadResponse> it =
        ByteStreamGrpc.newBlockingStub(h.channel)
            .read(ReadRequest.newBuilder().setResourceName(resource).build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    it.forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
    return out.toByteArray();
  }

  private static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  @Test
  void health_livenessAndReadiness() throws Exception {
    start();
    assertThat(h.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(h.get("/readyz").statusCode()).isEqualTo(200);
    h.health.markStopping();
    HttpResponse<String> r = h.get("/readyz");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("shutting down");
    assertThat(h.get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void ndjsonWrite_thenReadAsNdjson_returnsTheSameBytes() throws Exception {
    start();
    byte[] data = random(3 * 1024 * 1024 + 123, 1);
    String upload = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    HttpResponse<String> w =
        h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(ndjson(upload, data, 64 * 1024, 0, true)),
            "Content-Type", "application/x-ndjson");
    assertThat(w.statusCode()).as(w.body()).isEqualTo(200);
    assertThat(json(w).get("committedSize").getAsString()).isEqualTo(Long.toString(data.length));

    String blob = "blobs/" + sha256(data) + "/" + data.length;
    HttpResponse<String> r = h.get("/v1/" + blob + ":read");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(results(r.body())).isEqualTo(data);
    assertThat(readOverGrpc(blob)).isEqualTo(data);

    HttpResponse<String> part = h.get("/v1/" + blob + ":read?read_offset=1000&readLimit=10");
    assertThat(results(part.body())).isEqualTo(java.util.Arrays.copyOfRange(data, 1000, 1010));

    HttpResponse<String> q = h.get("/v1/" + upload + ":queryWriteStatus");
    assertThat(q.statusCode()).isEqualTo(200);
    assertThat(json(q).get("committedSize").getAsString()).isEqualTo(Long.toString(data.length));
    assertThat(json(q).get("complete").getAsBoolean()).isTrue();
  }

  @Test
  void concatenatedJsonAndUrlSafeBase64_areAccepted() throws Exception {
    start();
    byte[] data = random(5000, 2);
    // Bytes chosen so standard and URL-safe base64 differ.
    data[0] = (byte) 0xfb;
    data[1] = (byte) 0xff;
    String body =
        "{\"resourceName\":\"files/a.bin\",\"writeOffset\":\"0\",\"data\":\""
            + Base64.getUrlEncoder().encodeToString(java.util.Arrays.copyOf(data, 3000)) + "\"}"
            + "{\"write_offset\":3000,\"data\":\""
            + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(data, 3000, 5000))
            + "\",\"finish_write\":true}";
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(body));
    assertThat(w.statusCode()).as(w.body()).isEqualTo(200);
    assertThat(w.body()).isEqualTo("{\"committedSize\":\"5000\"}");
    assertThat(readOverGrpc("files/a.bin")).isEqualTo(data);
  }

  @Test
  void errorBeforeFirstMessage_hasMappedStatusAndOneErrorLine() throws Exception {
    start();
    String missing = "blobs/" + sha256(new byte[] {1}) + "/1";
    HttpResponse<String> r = h.get("/v1/" + missing + ":read");
    assertThat(r.statusCode()).isEqualTo(404);
    String[] lines = r.body().split("\n");
    assertThat(lines).hasSize(1);
    JsonObject err = JsonParser.parseString(lines[0]).getAsJsonObject().getAsJsonObject("error");
    assertThat(err.get("code").getAsInt()).isEqualTo(5);
    assertThat(err.get("message").getAsString()).isEqualTo("'" + missing + "' not found");

    HttpResponse<String> off = h.get("/v1/files/nothing:read?read_offset=-1");
    assertThat(off.statusCode()).isEqualTo(400);
    assertThat(off.body()).contains("\"code\":11").contains("read_offset -1 is negative");
  }

  @Test
  void unaryErrors_areRpcStatusJsonWithMappedHttpStatus() throws Exception {
    start();
    HttpResponse<String> r = h.get("/v1/files/never-written:queryWriteStatus");
    assertThat(r.statusCode()).isEqualTo(404);
    JsonObject s = json(r);
    assertThat(s.get("code").getAsInt()).isEqualTo(5);
    assertThat(s.get("message").getAsString()).isEqualTo("no write to 'files/never-written' has reached this server");
    assertThat(s.getAsJsonArray("details")).isEmpty();

    HttpResponse<String> bad = h.get("/v1/uploads/u1/blobs/xyz/1:queryWriteStatus");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("code").getAsInt()).isEqualTo(3);
    assertThat(json(bad).get("message").getAsString()).contains("xyz");
  }

  @Test
  void digestMismatch_isBadRequestAndPublishesNothing() throws Exception {
    start();
    byte[] data = random(10_000, 3);
    byte[] other = random(10_000, 4);
    String upload = "uploads/" + UUID.randomUUID() + "/blobs/" + sha256(data) + "/" + data.length;
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(ndjson(upload, other, 4096, 0, true)));
    assertThat(w.statusCode()).isEqualTo(400);
    assertThat(json(w).get("code").getAsInt()).isEqualTo(3);
    assertThat(json(w).get("message").getAsString()).startsWith("content hashes to sha256:" + sha256(other));
    assertThat(h.get("/v1/blobs/" + sha256(data) + "/" + data.length + ":read").statusCode()).isEqualTo(404);
  }

  @Test
  void badBodies_getPreciseStatusesAndNothingBecomesVisible() throws Exception {
    // Strict JSON (--http-strict-json): unknown fields and query parameters are errors.
    start(new GatewaySettings(Optional.empty(), false, false, 4096, Duration.ofSeconds(30)));
    String first = "{\"resourceName\":\"files/x\",\"writeOffset\":\"0\",\"data\":\"AAAA\"}\n";

    HttpResponse<String> malformed = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(first + "{\"data\": nope}\n"));
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(json(malformed).get("message").getAsString()).isEqualTo("message 2 of the body is not valid JSON: unexpected 'nope'");

    HttpResponse<String> unknown = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(first.replace("\"data\"", "\"colour\":\"red\",\"data\"")));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown).get("message").getAsString()).contains("colour");

    HttpResponse<String> base64 = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(first.replace("AAAA", "A?A*")));
    assertThat(base64.statusCode()).isEqualTo(400);
    assertThat(json(base64).get("message").getAsString()).contains("message 1 of the body");

    String big = "{\"resourceName\":\"files/x\",\"data\":\"" + "A".repeat(8000) + "\"}\n";
    HttpResponse<String> tooLong = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(big));
    assertThat(tooLong.statusCode()).isEqualTo(413);
    assertThat(json(tooLong).get("message").getAsString()).isEqualTo(
        "JSON message 1 of the body is longer than 4096 bytes (the gateway's maximum message size)");

    HttpResponse<String> notObjects = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString("[1,2]"));
    assertThat(notObjects.statusCode()).isEqualTo(400);
    assertThat(json(notObjects).get("message").getAsString()).contains("starts with '['");

    HttpResponse<String> truncated = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(first + "{\"data\":\"AA"));
    assertThat(truncated.statusCode()).isEqualTo(400);
    assertThat(json(truncated).get("message").getAsString()).contains("ends inside JSON message 2");

    // None of those writes finished, so the object does not exist.
    assertThat(h.get("/raw/files/x").statusCode()).isEqualTo(404);

    HttpResponse<String> noRule = h.get("/v1/nothing/here");
    assertThat(noRule.statusCode()).isEqualTo(404);
    assertThat(json(noRule).get("message").getAsString()).isEqualTo("no HTTP rule matches GET /v1/nothing/here");

    HttpResponse<String> wrongMethod = h.get("/v1/bytestream:write");
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("allow")).hasValue("POST");

    HttpResponse<String> bodyOnGet = h.send("GET", "/v1/files/x:queryWriteStatus", BodyPublishers.ofString("{}"));
    assertThat(bodyOnGet.statusCode()).isEqualTo(400);
    assertThat(json(bodyOnGet).get("message").getAsString()).contains("takes no request body");

    HttpResponse<String> badQuery = h.get("/v1/files/x:read?read_offset=ten");
    assertThat(badQuery.statusCode()).isEqualTo(400);
    assertThat(json(badQuery).get("message").getAsString()).isEqualTo("query parameter read_offset: 'ten' is not a number");

    HttpResponse<String> unknownQuery = h.get("/v1/files/x:read?colour=red");
    assertThat(unknownQuery.statusCode()).isEqualTo(400);
    assertThat(json(unknownQuery).get("message").getAsString()).contains("'colour' names no field");
  }

  @Test
  void ignoreUnknownFields_letsThemThrough() throws Exception {
    start(new GatewaySettings(Optional.empty(), true, true, 1 << 20, Duration.ofSeconds(30)));
    String body = "{\"resourceName\":\"files/y\",\"colour\":\"red\",\"data\":\"AAEC\",\"finishWrite\":true}";
    HttpResponse<String> w = h.send("POST", "/v1/bytestream:write", BodyPublishers.ofString(body));
    assertThat(w.statusCode()).as(w.body()).isEqualTo(200);
    assertThat(readOverGrpc("files/y")).containsExactly(0, 1, 2);
  }

  @Test
  void headers_becomeMetadataAndDeadline_throughTheSameInterceptors() throws Exception {
    start();
    HttpResponse<String> denied = h.get("/v1/files/x:queryWriteStatus", "Grpc-Metadata-X-Deny", "because");
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(json(denied).get("message").getAsString()).isEqualTo("denied by x-deny: because");

    HttpResponse<String> auth = h.get("/v1/files/x:queryWriteStatus", "Authorization", "Bearer bad");
    assertThat(auth.statusCode()).isEqualTo(401);
    assertThat(json(auth).get("message").getAsString()).isEqualTo("bad token");

    // The same interceptor guards direct gRPC callers.
    Metadata m = new Metadata();
    m.put(Metadata.Key.of("x-deny", Metadata.ASCII_STRING_MARSHALLER), "because");
    try {
      ByteStreamGrpc.newBlockingStub(h.channel).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(m))
          .queryWriteStatus(com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest.newBuilder().setResourceName("files/x").build());
      throw new AssertionError("expected PERMISSION_DENIED");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    HttpResponse<String> badTimeout = h.get("/v1/files/x:queryWriteStatus", "Grpc-Timeout", "soon");
    assertThat(badTimeout.statusCode()).isEqualTo(400);
    assertThat(json(badTimeout).get("message").getAsString()).startsWith("Grpc-Timeout: 'soon'");

    HttpResponse<String> expired = h.get("/v1/files/x:queryWriteStatus", "Grpc-Timeout", "1n", "Grpc-Metadata-X-Slow", "200");
    assertThat(expired.statusCode()).isEqualTo(504);
    assertThat(json(expired).get("code").getAsInt()).isEqualTo(4);
  }

  @Test
  void reapiAnnotations_areServedAsJson() throws Exception {
    start();
    String body = "{\"blobDigests\":[{\"hash\":\"ab\",\"sizeBytes\":\"3\"},{\"hash\":\"cd\",\"sizeBytes\":\"0\"}]}";
    HttpResponse<String> r = h.send("POST", "/v2/team/a/blobs:findMissing", BodyPublishers.ofString(body));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // The echo service reports the instance it saw as the hash of the first missing digest.
    assertThat(r.body()).isEqualTo("{\"missingBlobDigests\":[{\"hash\":\"team/a\",\"sizeBytes\":\"3\"}]}");

    HttpResponse<String> empty = h.send("POST", "/v2/blobs:findMissing", BodyPublishers.ofString("{}"));
    // Every field is printed, default values too, as grpc-gateway v2 prints them.
    assertThat(empty.body()).isEqualTo("{\"missingBlobDigests\":[{\"hash\":\"\",\"sizeBytes\":\"0\"}]}");

    HttpResponse<String> ar = h.get("/v2/main/actionResults/" + "e".repeat(64) + "/42?inline_stdout=true");
    assertThat(ar.statusCode()).as(ar.body()).isEqualTo(200);
    assertThat(ar.body()).isEqualTo("{\"outputFiles\":[],\"outputDirectories\":[],\"exitCode\":42,\"stdoutRaw\":\""
        + Base64.getEncoder().encodeToString(("main:" + "e".repeat(64) + ":true").getBytes(StandardCharsets.UTF_8))
        + "\",\"stderrRaw\":\"\",\"outputFileSymlinks\":[],\"outputDirectorySymlinks\":[],\"outputSymlinks\":[]}");
  }

  @Test
  void yamlRules_replaceAndAddBindings() throws Exception {
    Path rules = dir.resolve("rules.yaml");
    Files.writeString(rules, String.join("\n",
        "type: google.api.Service",
        "config_version: 3",
        "http:",
        "  rules:",
        "    - selector: google.bytestream.ByteStream.Read",
        "      get: /files/{resource_name=files/**}",
        "      additional_bindings:",
        "        - get: /blob/{resource_name=**}/content",
        "    - selector: google.bytestream.ByteStream.Write",
        "      put: /put-here",
        "      body: '*'",
        ""));
    start(new GatewaySettings(Optional.of(rules), true, true, 1 << 20, Duration.ofSeconds(30)));
    HttpResponse<String> w = h.send("PUT", "/put-here", BodyPublishers.ofString(ndjson("files/z", new byte[] {7, 8, 9}, 10, 0, true)));
    assertThat(w.statusCode()).as(w.body()).isEqualTo(200);
    assertThat(results(h.get("/files/files/z").body())).containsExactly(7, 8, 9);
    assertThat(results(h.get("/blob/files/z/content").body())).containsExactly(7, 8, 9);
    assertThat(h.get("/v1/files/z:read").statusCode()).isEqualTo(404);
  }

  /** Denies calls carrying {@code x-deny} or the token {@code Bearer bad}; waits for {@code x-slow} ms. */
  static final class DenyInterceptor implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      String deny = headers.get(Metadata.Key.of("x-deny", Metadata.ASCII_STRING_MARSHALLER));
      if (deny != null) {
        call.close(Status.PERMISSION_DENIED.withDescription("denied by x-deny: " + deny), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      if ("Bearer bad".equals(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)))) {
        call.close(Status.UNAUTHENTICATED.withDescription("bad token"), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      String slow = headers.get(Metadata.Key.of("x-slow", Metadata.ASCII_STRING_MARSHALLER));
      if (slow != null) {
        try {
          Thread.sleep(Long.parseLong(slow));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return next.startCall(call, headers);
    }
  }

  /** Answers FindMissingBlobs with the digests of positive size, hash replaced by the instance. */
  static final class EchoCas extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {
    @Override
    public void findMissingBlobs(FindMissingBlobsRequest req, StreamObserver<FindMissingBlobsResponse> out) {
      FindMissingBlobsResponse.Builder b = FindMissingBlobsResponse.newBuilder();
      for (Digest d : req.getBlobDigestsList()) {
        if (d.getSizeBytes() > 0) {
          b.addMissingBlobDigests(d.toBuilder().setHash(req.getInstanceName()));
        }
      }
      if (req.getBlobDigestsCount() == 0) {
        b.addMissingBlobDigests(Digest.newBuilder().setHash(req.getInstanceName()));
      }
      out.onNext(b.build());
      out.onCompleted();
    }
  }

  /** Answers GetActionResult with what it was asked, so the test sees every bound field. */
  static final class EchoActionCache extends ActionCacheGrpc.ActionCacheImplBase {
    @Override
    public void getActionResult(GetActionResultRequest req, StreamObserver<ActionResult> out) {
      out.onNext(
          ActionResult.newBuilder()
              .setExitCode((int) req.getActionDigest().getSizeBytes())
              .setStdoutRaw(com.google.protobuf.ByteString.copyFromUtf8(
                  req.getInstanceName() + ":" + req.getActionDigest().getHash() + ":" + req.getInlineStdout()))
              .build());
      out.onCompleted();
    }
  }
}
