package dev.bytestreams3.service.observe;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.Optional;

/**
 * The name a request acts on: the {@code resource_name} of ByteStream requests or the {@code
 * instance_name} of Remote Execution API requests.
 */
public final class RequestTarget {

  private RequestTarget() {}

  /** The field that names what {@code request} acts on, if it has one. */
  public static Optional<FieldDescriptor> fieldOf(Object request) {
    if (!(request instanceof Message m)) {
      return Optional.empty();
    }
    FieldDescriptor f = m.getDescriptorForType().findFieldByName("resource_name");
    if (f == null) {
      f = m.getDescriptorForType().findFieldByName("instance_name");
    }
    if (f == null || f.getJavaType() != FieldDescriptor.JavaType.STRING || f.isRepeated()) {
      return Optional.empty();
    }
    return Optional.of(f);
  }

  /** The resource or instance name of {@code request}; empty when it names none. */
  public static String nameOf(Object request) {
    return fieldOf(request).map(f -> (String) ((Message) request).getField(f)).orElse("");
  }
}
