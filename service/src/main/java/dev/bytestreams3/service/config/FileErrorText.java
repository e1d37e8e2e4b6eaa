package dev.bytestreams3.service.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Says what went wrong with a file or folder the way an operator reads it ("/srv/cache: permission
 * denied"), without the exception's class name.
 */
final class FileErrorText {

  private FileErrorText() {}

  /** The file problem behind {@code e}: the first {@link IOException} among its causes. */
  static String of(Throwable e) {
    Throwable t = e;
    while (t != null && !(t instanceof IOException)) {
      t = t.getCause();
    }
    if (t == null) {
      return String.valueOf(e.getMessage());
    }
    if (t instanceof AccessDeniedException a) {
      return a.getFile() + ": permission denied";
    }
    if (t instanceof FileAlreadyExistsException f) {
      return f.getFile() + " exists and is not a folder";
    }
    if (t instanceof NoSuchFileException n) {
      return n.getFile() + " does not exist";
    }
    if (t instanceof NotDirectoryException n) {
      return n.getFile() + " is not a folder";
    }
    if (t instanceof FileSystemException f) {
      return f.getFile() + (f.getReason() == null ? "" : ": " + f.getReason());
    }
    return String.valueOf(t.getMessage());
  }
}
