package dev.bytestreams3.proto;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.RemoteExecutionProto;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.semver.SemVer;
import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.Type;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks, through the generated descriptors, the parts of the Remote Execution API wire format that
 * a real Bazel client depends on. A failure here means our .proto drifted from the published one.
 */
class WireCompatibilityTest {

  private static final String PACKAGE = "build.bazel.remote.execution.v2";

  @Test
  void digestLayout() {
    Descriptor d = Digest.getDescriptor();
    assertThat(d.getFullName()).isEqualTo(PACKAGE + ".Digest");
    assertField(d, "hash", 1, Type.STRING);
    assertField(d, "size_bytes", 2, Type.INT64);
    assertThat(d.getFields()).hasSize(2);
  }

  @Test
  void digestEncodesToTheExpectedBytes() {
    byte[] wire = Digest.newBuilder().setHash("ab").setSizeBytes(3).build().toByteArray();
    // field 1, length-delimited, "ab"; field 2, varint, 3
    assertThat(wire).containsExactly(0x0a, 0x02, 'a', 'b', 0x10, 0x03);
  }

  @Test
  void findMissingBlobsRequestLayout() {
    Descriptor d = FindMissingBlobsRequest.getDescriptor();
    assertField(d, "instance_name", 1, Type.STRING);
    FieldDescriptor blobs = assertField(d, "blob_digests", 2, Type.MESSAGE);
    assertThat(blobs.isRepeated()).isTrue();
    assertThat(blobs.getMessageType()).isEqualTo(Digest.getDescriptor());
    FieldDescriptor fn = assertField(d, "digest_function", 3, Type.ENUM);
    assertThat(fn.getEnumType()).isEqualTo(DigestFunction.Value.getDescriptor());
  }

  @Test
  void serverCapabilitiesLayout() {
    Descriptor d = ServerCapabilities.getDescriptor();
    assertField(d, "cache_capabilities", 1, Type.MESSAGE);
    assertField(d, "execution_capabilities", 2, Type.MESSAGE);
    assertField(d, "deprecated_api_version", 3, Type.MESSAGE);
    assertField(d, "low_api_version", 4, Type.MESSAGE);
    FieldDescriptor high = assertField(d, "high_api_version", 5, Type.MESSAGE);
    assertThat(high.getMessageType()).isEqualTo(SemVer.getDescriptor());
    assertThat(SemVer.getDescriptor().getFullName()).isEqualTo("build.bazel.semver.SemVer");
    assertThat(d.getFields()).hasSize(5);
  }

  @Test
  void cacheCapabilitiesLayout() {
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("digest_functions", 1);
    expected.put("action_cache_update_capabilities", 2);
    expected.put("cache_priority_capabilities", 3);
    expected.put("max_batch_total_size_bytes", 4);
    expected.put("symlink_absolute_path_strategy", 5);
    expected.put("supported_compressors", 6);
    expected.put("supported_batch_update_compressors", 7);
    expected.put("max_cas_blob_size_bytes", 8);
    expected.put("split_blob_support", 9);
    expected.put("splice_blob_support", 10);
    expected.put("fast_cdc_2020_params", 11);
    expected.put("rep_max_cdc_params", 12);

    Descriptor d = CacheCapabilities.getDescriptor();
    assertThat(fieldNumbers(d)).containsExactlyInAnyOrderEntriesOf(expected);
    assertThat(d.findFieldByName("digest_functions").isRepeated()).isTrue();
    assertThat(d.findFieldByName("max_batch_total_size_bytes").getType()).isEqualTo(Type.INT64);
    assertThat(d.findFieldByName("supported_compressors").getType()).isEqualTo(Type.ENUM);
  }

  @Test
  void actionResultLayout() {
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("output_files", 2);
    expected.put("output_directories", 3);
    expected.put("exit_code", 4);
    expected.put("stdout_raw", 5);
    expected.put("stdout_digest", 6);
    expected.put("stderr_raw", 7);
    expected.put("stderr_digest", 8);
    expected.put("execution_metadata", 9);
    expected.put("output_file_symlinks", 10);
    expected.put("output_directory_symlinks", 11);
    expected.put("output_symlinks", 12);

    Descriptor d = ActionResult.getDescriptor();
    assertThat(fieldNumbers(d)).containsExactlyInAnyOrderEntriesOf(expected);
    assertThat(d.isReservedNumber(1)).isTrue();
    assertThat(d.findFieldByName("exit_code").getType()).isEqualTo(Type.INT32);
    assertThat(d.findFieldByName("stdout_raw").getType()).isEqualTo(Type.BYTES);
  }

  @Test
  void digestFunctionValues() {
    assertThat(DigestFunction.Value.UNKNOWN.getNumber()).isZero();
    assertThat(DigestFunction.Value.SHA256.getNumber()).isEqualTo(1);
    assertThat(DigestFunction.Value.BLAKE3.getNumber()).isEqualTo(9);
  }

  @Test
  void findMissingBlobsHttpRule() {
    MethodDescriptor method = casService().findMethodByName("FindMissingBlobs");
    HttpRule rule = method.getOptions().getExtension(AnnotationsProto.http);
    assertThat(rule.getPatternCase()).isEqualTo(HttpRule.PatternCase.POST);
    assertThat(rule.getPost()).isEqualTo("/v2/{instance_name=**}/blobs:findMissing");
    assertThat(rule.getBody()).isEqualTo("*");
  }

  @Test
  void grpcMethodNamesMatchWhatClientsCall() {
    assertThat(ContentAddressableStorageGrpc.SERVICE_NAME)
        .isEqualTo(PACKAGE + ".ContentAddressableStorage");
    assertThat(ContentAddressableStorageGrpc.getFindMissingBlobsMethod().getFullMethodName())
        .isEqualTo(PACKAGE + ".ContentAddressableStorage/FindMissingBlobs");
    assertThat(ContentAddressableStorageGrpc.getGetTreeMethod().getType())
        .isEqualTo(MethodType.SERVER_STREAMING);
  }

  private static ServiceDescriptor casService() {
    return RemoteExecutionProto.getDescriptor().findServiceByName("ContentAddressableStorage");
  }

  private static FieldDescriptor assertField(Descriptor d, String name, int number, Type type) {
    FieldDescriptor f = d.findFieldByName(name);
    assertThat(f).as("%s.%s", d.getName(), name).isNotNull();
    assertThat(f.getNumber()).as("%s.%s number", d.getName(), name).isEqualTo(number);
    assertThat(f.getType()).as("%s.%s type", d.getName(), name).isEqualTo(type);
    return f;
  }

  private static Map<String, Integer> fieldNumbers(Descriptor d) {
    Map<String, Integer> numbers = new LinkedHashMap<>();
    for (FieldDescriptor f : d.getFields()) {
      numbers.put(f.getName(), f.getNumber());
    }
    return numbers;
  }
}
