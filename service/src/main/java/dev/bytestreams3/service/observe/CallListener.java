package dev.bytestreams3.service.observe;

/** Told about every call the server takes: when it starts and what it did once it ended. */
public interface CallListener {

  /** A call of {@code method} arrived. */
  default void started(String method) {}

  /**
   * A call ended: the server closed it (before the client sees the end) or the client went away.
   * Called exactly once per {@link #started}, from any thread.
   */
  void finished(CallRecord record);
}
