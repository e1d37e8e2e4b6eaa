package dev.bytestreams3.storage.tier;

/**
 * A failure of the tier's own disk, as opposed to one of the store behind it: a reader meeting it
 * continues from that store, where a failure of the store itself ends the read as it would
 * without the tier.
 */
final class DiskFault extends RuntimeException {

  DiskFault(String message, Throwable cause) {
    super(message, cause);
  }
}
