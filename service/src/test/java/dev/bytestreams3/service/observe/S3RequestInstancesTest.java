package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class S3RequestInstancesTest {

  @Test
  void servedInstances_areTheirOwnLabel_othersAreOther() {
    S3RequestInstances labels =
        new S3RequestInstances("cache", Optional.of(Set.of("", "ci", "ci/linux")));
    assertThat(labels.ofS3Key("cache/ci/cas/sha256/ab12")).isEqualTo("ci");
    assertThat(labels.ofS3Key("cache/ci/linux/ac/sha256/ab12")).isEqualTo("ci/linux");
    assertThat(labels.ofS3Key("cache/cas/sha256/ab12")).isEqualTo("(unnamed)");
    assertThat(labels.ofS3Key("cache/dev/cas/sha256/ab12")).isEqualTo("other");
    // An instance may itself hold a segment named cas: the last three segments are the blob's.
    assertThat(labels.ofBlobKey("ci/cas/sha256/ab12")).isEqualTo("ci");
  }

  @Test
  void objectsRecordsAndKeysOutsideThePrefix_areNotInstances() {
    S3RequestInstances labels = new S3RequestInstances("cache/", Optional.of(Set.of("ci")));
    assertThat(labels.ofS3Key("cache/objects/reports/a/cas/x/y")).isEqualTo("(objects)");
    assertThat(labels.ofS3Key("cache/.uploads/probe-1")).isEqualTo("(none)");
    assertThat(labels.ofS3Key("elsewhere/ci/cas/sha256/ab12")).isEqualTo("(none)");
    assertThat(labels.ofS3Key(null)).isEqualTo("(none)");
  }

  @Test
  void withoutAServedList_theFirstTwentyInstancesAreLabelled_theRestAreOther() {
    S3RequestInstances labels = new S3RequestInstances("", Optional.empty());
    for (int i = 0; i < S3RequestInstances.MAX_UNLISTED; i++) {
      assertThat(labels.ofBlobKey("i" + i + "/cas/sha256/ab")).isEqualTo("i" + i);
    }
    assertThat(labels.ofBlobKey("late/cas/sha256/ab")).isEqualTo("other");
    assertThat(labels.ofBlobKey("i3/ac/sha256/cd")).isEqualTo("i3");
  }
}
