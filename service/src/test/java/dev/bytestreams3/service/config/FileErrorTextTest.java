package dev.bytestreams3.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.junit.jupiter.api.Test;

/** What an operator reads when a folder setting cannot be used: the file and the problem. */
class FileErrorTextTest {

  @Test
  void eachFileProblem_isNamedInWords_withoutAClassName() {
    assertThat(FileErrorText.of(new AccessDeniedException("/srv/cache")))
        .isEqualTo("/srv/cache: permission denied");
    assertThat(FileErrorText.of(new FileAlreadyExistsException("/srv/cache")))
        .isEqualTo("/srv/cache exists and is not a folder");
    assertThat(FileErrorText.of(new NoSuchFileException("/srv/cache")))
        .isEqualTo("/srv/cache does not exist");
    assertThat(FileErrorText.of(new NotDirectoryException("/srv/cache")))
        .isEqualTo("/srv/cache is not a folder");
    assertThat(FileErrorText.of(new FileSystemException("/srv/cache", null, "Read-only file system")))
        .isEqualTo("/srv/cache: Read-only file system");
  }

  @Test
  void theFileProblem_isFoundAmongTheCauses() {
    RuntimeException wrapped =
        new IllegalStateException(
            "cannot prepare the local tier",
            new UncheckedIOException(new AccessDeniedException("/srv/cache/tmp")));
    assertThat(FileErrorText.of(wrapped)).isEqualTo("/srv/cache/tmp: permission denied");
    assertThat(FileErrorText.of(new IllegalStateException("no file involved")))
        .isEqualTo("no file involved");
    assertThat(FileErrorText.of(new IOException("disk gone"))).isEqualTo("disk gone");
  }
}
