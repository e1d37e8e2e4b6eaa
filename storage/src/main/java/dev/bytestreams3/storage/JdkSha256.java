package dev.bytestreams3.storage;

import static java.lang.invoke.MethodType.methodType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * SHA-256 computed by the JDK's own implementation, whose block compression HotSpot replaces with
 * the CPU's SHA instructions: about ten times Bouncy Castle's speed. The JDK cannot save a running
 * digest, so this reads and writes the implementation's fields ({@code buffer}, {@code bufOfs},
 * {@code bytesProcessed} and {@code state}) and converts them to and from {@link Sha256State}.
 *
 * <p>That works only when {@code java.base} opens {@code sun.security.provider} to this code
 * ({@code --add-opens java.base/sun.security.provider=ALL-UNNAMED}, or {@code Add-Opens} in an
 * executable jar's manifest) and the fields are the ones this code knows, which is checked once
 * against Bouncy Castle. Otherwise {@link #available()} is false. Not thread-safe.
 */
final class JdkSha256 implements ContentHasher {

  /** The handles into the JDK's implementation, resolved and checked once; immutable. */
  private record Internals(
      MethodHandle create,
      MethodHandle update,
      MethodHandle digest,
      MethodHandle copy,
      VarHandle buffer,
      VarHandle bufferedBytes,
      VarHandle bytesProcessed,
      VarHandle state) {}

  private static final String PACKAGE = "sun.security.provider";

  private static final Internals INTERNALS;
  private static final String UNAVAILABLE;

  static {
    Internals found = null;
    String why = null;
    try {
      found = resolve();
      check(found);
    } catch (ReflectiveOperationException
        | GeneralSecurityException
        | RuntimeException
        | LinkageError e) {
      found = null;
      why = e.toString();
    }
    INTERNALS = found;
    UNAVAILABLE = why;
  }

  private final Object spi;
  private byte[] scratch;

  /** Starts from nothing; only when {@link #available()}. */
  JdkSha256() {
    this(newSpi(INTERNALS));
  }

  private JdkSha256(Object spi) {
    this.spi = spi;
  }

  /** Whether the JDK's implementation can be used here. */
  static boolean available() {
    return INTERNALS != null;
  }

  /** Why the JDK's implementation cannot be used here, or empty when it can. */
  static String unavailableReason() {
    return UNAVAILABLE == null ? "" : UNAVAILABLE;
  }

  /** Continues from {@code state}; only when {@link #available()}. */
  static JdkSha256 restore(Sha256State state) {
    return restore(INTERNALS, state);
  }

  @Override
  public void update(ByteBuffer data) {
    if (data.hasArray()) {
      update(data.array(), data.arrayOffset() + data.position(), data.remaining());
      return;
    }
    if (scratch == null) {
      scratch = new byte[16384];
    }
    ByteBuffer d = data.duplicate();
    while (d.hasRemaining()) {
      int n = Math.min(scratch.length, d.remaining());
      d.get(scratch, 0, n);
      update(scratch, 0, n);
    }
  }

  @Override
  public byte[] exportState() {
    return state(INTERNALS, spi).encode();
  }

  @Override
  public byte[] digest() {
    return digest(INTERNALS, spi);
  }

  private void update(byte[] b, int offset, int length) {
    update(INTERNALS, spi, b, offset, length);
  }

  private static Internals resolve()
      throws ReflectiveOperationException, GeneralSecurityException {
    Provider sun = Security.getProvider("SUN");
    if (sun == null) {
      throw new ClassNotFoundException("no SUN security provider");
    }
    Provider.Service service = sun.getService("MessageDigest", "SHA-256");
    if (service == null) {
      throw new ClassNotFoundException("no SHA-256 in the SUN provider");
    }
    Class<?> impl = service.newInstance(null).getClass();
    Class<?> digestBase = Class.forName(PACKAGE + ".DigestBase");
    Class<?> sha2 = Class.forName(PACKAGE + ".SHA2");
    if (!sha2.isAssignableFrom(impl) || !digestBase.isAssignableFrom(sha2)) {
      throw new ClassNotFoundException(
          "SHA-256 is " + impl.getName() + ", not a " + sha2.getName());
    }
    // Throws IllegalAccessException unless the package is open to this code.
    MethodHandles.Lookup base = MethodHandles.privateLookupIn(digestBase, MethodHandles.lookup());
    MethodHandles.Lookup sha2Lookup = MethodHandles.privateLookupIn(sha2, MethodHandles.lookup());
    MethodHandles.Lookup implLookup = MethodHandles.privateLookupIn(impl, MethodHandles.lookup());
    MethodType bytes = methodType(void.class, byte[].class, int.class, int.class);
    return new Internals(
        implLookup.findConstructor(impl, methodType(void.class)).asType(methodType(Object.class)),
        base.findVirtual(digestBase, "engineUpdate", bytes)
            .asType(bytes.insertParameterTypes(0, Object.class)),
        base.findVirtual(digestBase, "engineDigest", bytes.changeReturnType(int.class))
            .asType(bytes.changeReturnType(int.class).insertParameterTypes(0, Object.class)),
        base.findVirtual(digestBase, "clone", methodType(Object.class))
            .asType(methodType(Object.class, Object.class)),
        base.findVarHandle(digestBase, "buffer", byte[].class),
        base.findVarHandle(digestBase, "bufOfs", int.class),
        base.findVarHandle(digestBase, "bytesProcessed", long.class),
        sha2Lookup.findVarHandle(sha2, "state", int[].class));
  }

  /**
   * Checks that the fields mean what this code takes them to mean: a state saved here must equal
   * Bouncy Castle's after the same bytes, and one restored here must hash on to the same digest.
   */
  private static void check(Internals internals) {
    byte[] input = new byte[150];
    for (int i = 0; i < input.length; i++) {
      input[i] = (byte) (i * 31 + 7);
    }
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    byte[] expected =
        HexFormat.of().parseHex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    if (!Arrays.equals(digestOf(internals, abc), expected)) {
      throw new IllegalStateException("the JDK's SHA-256 of \"abc\" is not the known digest");
    }
    for (int length : new int[] {0, 3, 64, 70, 150}) {
      SHA256Digest reference = new SHA256Digest();
      reference.update(input, 0, length);
      byte[] referenceState = reference.getEncodedState();
      Object spi = newSpi(internals);
      update(internals, spi, input, 0, length);
      if (!Arrays.equals(state(internals, spi).encode(), referenceState)) {
        throw new IllegalStateException(
            "the JDK's SHA-256 fields differ from Bouncy Castle's after " + length + " bytes");
      }
      JdkSha256 restored = restore(internals, Sha256State.decode(referenceState));
      // Through internals, not INTERNALS: this runs before that is set.
      update(internals, restored.spi, abc, 0, abc.length);
      reference.update(abc, 0, abc.length);
      byte[] referenceDigest = new byte[32];
      reference.doFinal(referenceDigest, 0);
      if (!Arrays.equals(digest(internals, restored.spi), referenceDigest)) {
        throw new IllegalStateException(
            "the JDK's SHA-256 restored after " + length + " bytes hashes differently");
      }
    }
  }

  private static byte[] digestOf(Internals internals, byte[] input) {
    Object spi = newSpi(internals);
    update(internals, spi, input, 0, input.length);
    return digest(internals, spi);
  }

  private static Object newSpi(Internals internals) {
    if (internals == null) {
      throw new IllegalStateException("the JDK's SHA-256 is not usable here: " + UNAVAILABLE);
    }
    try {
      return (Object) internals.create().invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static void update(Internals internals, Object spi, byte[] b, int offset, int length) {
    try {
      internals.update().invokeExact(spi, b, offset, length);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** The digest of a copy of {@code spi}, which finishing would otherwise reset. */
  private static byte[] digest(Internals internals, Object spi) {
    try {
      Object copy = (Object) internals.copy().invokeExact(spi);
      byte[] out = new byte[32];
      int n = (int) internals.digest().invokeExact(copy, out, 0, out.length);
      if (n != out.length) {
        throw new IllegalStateException("the JDK's SHA-256 wrote " + n + " bytes (expected: 32)");
      }
      return out;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static Sha256State state(Internals internals, Object spi) {
    byte[] buffer = (byte[]) internals.buffer().get(spi);
    int buffered = (int) internals.bufferedBytes().get(spi);
    long processed = (long) internals.bytesProcessed().get(spi);
    int[] h = (int[]) internals.state().get(spi);
    return new Sha256State(h, processed, Arrays.copyOf(buffer, buffered));
  }

  private static JdkSha256 restore(Internals internals, Sha256State state) {
    Object spi = newSpi(internals);
    byte[] pending = state.pending();
    byte[] buffer = (byte[]) internals.buffer().get(spi);
    int[] h = (int[]) internals.state().get(spi);
    if (buffer.length != Sha256State.BLOCK_BYTES || h.length != 8) {
      throw new IllegalStateException(
          "the JDK's SHA-256 holds " + buffer.length + " buffered bytes and " + h.length
              + " hash words (expected: 64 and 8)");
    }
    System.arraycopy(pending, 0, buffer, 0, pending.length);
    System.arraycopy(state.h(), 0, h, 0, 8);
    internals.bufferedBytes().set(spi, pending.length);
    internals.bytesProcessed().set(spi, state.byteCount());
    return new JdkSha256(spi);
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("the JDK's SHA-256 failed", t);
  }
}
