package dev.bytestreams3.service.resource;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.resource.KeyLayout.ActionResultAddress;
import dev.bytestreams3.storage.BlobKey;
import dev.bytestreams3.storage.Sha256;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {

  private final KeyLayout layout = new KeyLayout();

  @Test
  void actionResultOf_readsBackWhatActionResultKeyWrote_forAnyInstance() {
    for (String instance : new String[] {"", "main", "a/b", "ac", "x/ac"}) {
      BlobKey key = layout.actionResultKey(instance, Sha256.FUNCTION, "ab12");
      assertThat(layout.actionResultOf(key))
          .as(key.value())
          .contains(new ActionResultAddress(instance, "sha256", "ab12"));
    }
  }

  @Test
  void actionResultOf_otherKeys_isEmpty() {
    assertThat(layout.actionResultOf(layout.casKey("ac", Sha256.FUNCTION, "ab12"))).isEmpty();
    assertThat(layout.actionResultOf(layout.objectKey("ac/sha256/ab12"))).isEmpty();
    assertThat(layout.actionResultOf(BlobKey.of("mac/sha256/ab12"))).isEmpty();
    assertThat(layout.actionResultOf(BlobKey.of("ac/ab12"))).isEmpty();
  }
}
