package dev.bytestreams3.service.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PathTemplateTest {

  @Test
  void deepVariableWithVerb_bindsEverySegment() {
    PathTemplate t = PathTemplate.parse("/v1/{resource_name=**}:read");
    assertThat(t.match("/v1/main/blobs/abc/12:read")).hasValue(Map.of("resource_name", "main/blobs/abc/12"));
    assertThat(t.match("/v1/files/a%20b/c%2Bd:read")).hasValue(Map.of("resource_name", "files/a b/c+d"));
    assertThat(t.match("/v1/files/a:write")).isEmpty();
    assertThat(t.match("/v2/files/a:read")).isEmpty();
  }

  @Test
  void deepWildcardBeforeLiterals_backtracks() {
    PathTemplate t =
        PathTemplate.parse("/v2/{instance_name=**}/actionResults/{action_digest.hash}/{action_digest.size_bytes}");
    assertThat(t.match("/v2/team/a/actionResults/abc/42"))
        .hasValue(Map.of("instance_name", "team/a", "action_digest.hash", "abc", "action_digest.size_bytes", "42"));
    assertThat(t.match("/v2/actionResults/abc/42"))
        .hasValue(Map.of("instance_name", "", "action_digest.hash", "abc", "action_digest.size_bytes", "42"));
    assertThat(t.match("/v2/x/actionResults/abc")).isEmpty();
  }

  @Test
  void patternsInsideVariables_andSingleWildcards() {
    PathTemplate t = PathTemplate.parse("/v1/{name=messages/*}");
    assertThat(t.match("/v1/messages/foo")).hasValue(Map.of("name", "messages/foo"));
    assertThat(t.match("/v1/messages/foo/bar")).isEmpty();
    assertThat(t.match("/v1/other/foo")).isEmpty();
    assertThat(PathTemplate.parse("/v1/{id}").match("/v1/")).isEmpty();
  }

  @Test
  void malformedTemplates_areRejectedWithTheReason() {
    assertThatThrownBy(() -> PathTemplate.parse("v1/x")).hasMessageContaining("does not start with '/'");
    assertThatThrownBy(() -> PathTemplate.parse("/v1/{x")).hasMessageContaining("unbalanced braces");
    assertThatThrownBy(() -> PathTemplate.parse("/v1/{1x}")).hasMessageContaining("bad field path '1x'");
    assertThatThrownBy(() -> PathTemplate.parse("/**/a/**")).hasMessageContaining("more than one '**'");
  }
}
