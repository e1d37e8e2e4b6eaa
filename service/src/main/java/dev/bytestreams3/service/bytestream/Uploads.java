package dev.bytestreams3.service.bytestream;

import static java.util.Objects.requireNonNull;

import dev.bytestreams3.service.resource.KeyLayout;
import dev.bytestreams3.service.resource.ResourceName;
import dev.bytestreams3.storage.ContentCheck;
import dev.bytestreams3.storage.UploadSpec;
import java.util.HexFormat;
import java.util.Optional;

/** Decides what a write to a resource name stores, and how it is checked. */
final class Uploads {

  private final KeyLayout layout;
  private final boolean objectOverwrite;

  Uploads(KeyLayout layout, boolean objectOverwrite) {
    this.layout = requireNonNull(layout, "layout");
    this.objectOverwrite = objectOverwrite;
  }

  /**
   * The upload of {@code name}. A blob upload is verified against its digest and keyed by the
   * client's upload id; an object upload is keyed by its name, so any writer of the name resumes it.
   */
  UploadSpec specOf(ResourceName name) {
    if (name.isBlob()) {
      ContentCheck check =
          new ContentCheck(name.function(), HexFormat.of().parseHex(name.hash()));
      // Content-addressed: replacing a blob with the same digest changes nothing.
      // Compressed uploads of the same id are a separate upload: their bytes arrive differently.
      String kind = name.compressor().filter(c -> !c.equals("identity")).map(c -> c + "-upload/").orElse("upload/");
      return new UploadSpec(
          layout.keyOf(name), kind + name.uploadId(), name.size(), Optional.of(check), true);
    }
    return new UploadSpec(layout.keyOf(name), "object", -1, Optional.empty(), objectOverwrite);
  }
}
