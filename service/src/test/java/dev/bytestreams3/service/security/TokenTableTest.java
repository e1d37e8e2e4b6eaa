package dev.bytestreams3.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TokenTableTest {

  private static final String TOKEN = "s3cr3t-token-0123456789";

  @Test
  void grants_coverTheirPrefixSegmentBySegment() {
    TokenTable t = TokenTable.parse(List.of(TOKEN + " read-write team-a/ \"\"", "", "# note"));
    TokenTable.Grants g = t.grantsOf(TOKEN).orElseThrow();
    assertThat(g.allow("team-a", Right.Access.WRITE)).isTrue();
    assertThat(g.allow("team-a/x/y", Right.Access.READ)).isTrue();
    assertThat(g.allow("", Right.Access.WRITE)).isTrue();
    assertThat(g.allow("team-ab", Right.Access.READ)).isFalse();
    assertThat(g.allow("team", Right.Access.READ)).isFalse();
  }

  @Test
  void star_coversEveryName_andRightsAddUpAcrossLines() {
    TokenTable t = TokenTable.parse(List.of(TOKEN + " read *", TOKEN + " read-write ci"));
    TokenTable.Grants g = t.grantsOf(TOKEN).orElseThrow();
    assertThat(g.allow("anything/at/all", Right.Access.READ)).isTrue();
    assertThat(g.allow("anything", Right.Access.WRITE)).isFalse();
    assertThat(g.allow("ci/x", Right.Access.WRITE)).isTrue();
    assertThat(t.size()).isEqualTo(1);
  }

  @Test
  void digestEntries_matchTheTokenTheyHash() {
    TokenTable t = TokenTable.parse(List.of("sha256:" + TokenTable.sha256(TOKEN) + " read x"));
    assertThat(t.grantsOf(TOKEN)).isPresent();
    assertThat(t.grantsOf(TOKEN + "1")).isEmpty();
  }

  @Test
  void problems_nameTheLine_neverTheToken() {
    assertThatThrownBy(() -> TokenTable.parse(List.of("# c", TOKEN + " write x")))
        .hasMessage("line 2: right 'write' (expected: read or read-write)");
    assertThatThrownBy(() -> TokenTable.parse(List.of("short read x")))
        .hasMessage("line 1: a token needs at least 16 characters")
        .hasMessageNotContaining("short");
    assertThatThrownBy(() -> TokenTable.parse(List.of(TOKEN + " read")))
        .hasMessageContaining("line 1: expected '<token> <read|read-write> <prefix> ...'")
        .hasMessageNotContaining(TOKEN);
    assertThatThrownBy(() -> TokenTable.parse(List.of("sha256:abc read x")))
        .hasMessage("line 1: a sha256: token needs 64 lower-case hex digits");
    assertThatThrownBy(() -> TokenTable.parse(List.of(TOKEN + " read /x")))
        .hasMessage("line 1: prefix '/x' (expected: an instance name, \"\" or *)");
  }
}
