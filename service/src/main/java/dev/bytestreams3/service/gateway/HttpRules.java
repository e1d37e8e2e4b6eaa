package dev.bytestreams3.service.gateway;

import com.google.api.AnnotationsProto;
import com.google.api.Http;
import com.google.api.HttpRule;
import com.google.gson.Gson;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The HTTP rules the gateway serves: those of a {@code google.api.Service} YAML file
 * ({@code http.rules}) and the {@code google.api.http} annotations of the served methods. A YAML
 * rule for a method replaces the method's annotations.
 */
final class HttpRules {

  /** The rules shipped with the server: the ByteStream API, which carries no annotations. */
  static final String DEFAULT_RESOURCE = "/gateway/bytestream-http.yaml";

  private HttpRules() {}

  /** Reads {@code http.rules} from the YAML at {@code file}, or the default one when empty. */
  static List<HttpRule> fromYaml(java.util.Optional<Path> file) {
    try {
      if (file.isPresent()) {
        try (Reader r = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
          return fromYaml(r, file.get().toString());
        }
      }
      try (InputStream in = HttpRules.class.getResourceAsStream(DEFAULT_RESOURCE)) {
        return fromYaml(
            new StringReader(new String(in.readAllBytes(), StandardCharsets.UTF_8)),
            "the default rules");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read HTTP rules: " + e.getMessage(), e);
    }
  }

  /** Reads {@code http.rules} from a {@code google.api.Service} YAML document. */
  static List<HttpRule> fromYaml(Reader yaml, String source) {
    Object doc;
    try {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(source + " is not valid YAML: " + e.getMessage(), e);
    }
    if (!(doc instanceof Map<?, ?> map) || !(map.get("http") instanceof Map<?, ?> http)) {
      throw new IllegalArgumentException(source + " has no 'http' section");
    }
    Http.Builder b = Http.newBuilder();
    try {
      JsonFormat.parser().merge(new Gson().toJson(http), b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(source + ": bad http rules: " + e.getMessage(), e);
    }
    return b.getRulesList();
  }

  /**
   * Binds {@code yamlRules} and the annotations of {@code services} to their methods.
   *
   * @throws IllegalArgumentException for a rule whose selector names no served method, or whose
   *     template or body is malformed
   */
  static List<BoundRoute> bind(List<HttpRule> yamlRules, List<ServerServiceDefinition> services) {
    Map<String, MethodDescriptor<?, ?>> methods = new LinkedHashMap<>();
    for (ServerServiceDefinition s : services) {
      for (ServerMethodDefinition<?, ?> m : s.getMethods()) {
        MethodDescriptor<?, ?> d = m.getMethodDescriptor();
        methods.put(d.getFullMethodName().replace('/', '.'), d);
      }
    }
    Map<String, List<HttpRule>> bySelector = new LinkedHashMap<>();
    for (HttpRule r : yamlRules) {
      if (!methods.containsKey(r.getSelector())) {
        throw new IllegalArgumentException(
            "HTTP rule selector '" + r.getSelector() + "' names no served method (served: "
                + methods.keySet().stream().sorted().collect(Collectors.joining(", ")) + ")");
      }
      bySelector.computeIfAbsent(r.getSelector(), k -> new ArrayList<>()).add(r);
    }
    Set<String> fromYaml = Set.copyOf(bySelector.keySet());
    for (Map.Entry<String, MethodDescriptor<?, ?>> e : methods.entrySet()) {
      if (fromYaml.contains(e.getKey())) {
        continue;
      }
      if (e.getValue().getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier s) {
        Descriptors.MethodDescriptor md = s.getMethodDescriptor();
        if (md.getOptions().hasExtension(AnnotationsProto.http)) {
          bySelector
              .computeIfAbsent(e.getKey(), k -> new ArrayList<>())
              .add(md.getOptions().getExtension(AnnotationsProto.http));
        }
      }
    }
    List<BoundRoute> routes = new ArrayList<>();
    for (Map.Entry<String, List<HttpRule>> e : bySelector.entrySet()) {
      MethodDescriptor<?, ?> method = methods.get(e.getKey());
      for (HttpRule r : e.getValue()) {
        addRoutes(e.getKey(), r, method, routes);
      }
    }
    return routes;
  }

  private static void addRoutes(
      String selector, HttpRule r, MethodDescriptor<?, ?> method, List<BoundRoute> out) {
    String verb;
    String path;
    switch (r.getPatternCase()) {
      case GET -> { verb = "GET"; path = r.getGet(); }
      case PUT -> { verb = "PUT"; path = r.getPut(); }
      case POST -> { verb = "POST"; path = r.getPost(); }
      case DELETE -> { verb = "DELETE"; path = r.getDelete(); }
      case PATCH -> { verb = "PATCH"; path = r.getPatch(); }
      case CUSTOM -> { verb = r.getCustom().getKind().toUpperCase(java.util.Locale.ROOT); path = r.getCustom().getPath(); }
      default -> throw new IllegalArgumentException("HTTP rule for " + selector + " has no method and path");
    }
    RouteRule rule = new RouteRule(selector, verb, PathTemplate.parse(path), r.getBody());
    if (method.getType() == MethodDescriptor.MethodType.CLIENT_STREAMING
        && !rule.template().fieldPaths().isEmpty()) {
      throw new IllegalArgumentException(
          "HTTP rule for " + selector + ": a client-streaming method cannot bind path variables ("
              + path + ")");
    }
    out.add(new BoundRoute(rule, method));
    for (HttpRule extra : r.getAdditionalBindingsList()) {
      addRoutes(selector, extra, method, out);
    }
  }

  /** A rule and the method it calls. */
  record BoundRoute(RouteRule rule, MethodDescriptor<?, ?> method) {}
}
