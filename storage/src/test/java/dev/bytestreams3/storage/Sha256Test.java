package dev.bytestreams3.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.junit.jupiter.api.Test;

class Sha256Test {

  private static final Sha256 JDK = Sha256.FUNCTION;
  private static final Sha256 BOUNCY_CASTLE = Sha256.bouncyCastle();
  private static final int[] LENGTHS = {
    0, 1, 3, 4, 5, 31, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, 65_537, (1 << 20) + 7
  };

  /** A way to continue a saved state: one of ours, or Bouncy Castle's own digest. */
  private record Side(String name, Function<byte[], Hashing> restore, Supplier<Hashing> fresh) {}

  /** A running hash under test, fed and saved the way the stores do. */
  private interface Hashing {
    void update(byte[] data, int from, int to, Random random);

    byte[] state();

    byte[] digest();
  }

  private static Hashing ours(ContentHasher hasher) {
    return new Hashing() {
      @Override
      public void update(byte[] data, int from, int to, Random random) {
        // Random pieces, as heap, read-only and direct buffers: every path a store feeds.
        int at = from;
        while (at < to) {
          int n = Math.min(to - at, 1 + random.nextInt(random.nextBoolean() ? 70 : 40_000));
          ByteBuffer piece =
              switch (random.nextInt(3)) {
                case 0 -> ByteBuffer.wrap(data, at, n).slice();
                case 1 -> ByteBuffer.wrap(data, at, n).asReadOnlyBuffer();
                default -> ByteBuffer.allocateDirect(n).put(data, at, n).flip();
              };
          int position = piece.position();
          hasher.update(piece);
          assertThat(piece.position()).isEqualTo(position);
          at += n;
        }
      }

      @Override
      public byte[] state() {
        return hasher.exportState();
      }

      @Override
      public byte[] digest() {
        return hasher.digest();
      }
    };
  }

  private static Hashing bouncyCastleDigest(SHA256Digest digest) {
    return new Hashing() {
      @Override
      public void update(byte[] data, int from, int to, Random random) {
        digest.update(data, from, to - from);
      }

      @Override
      public byte[] state() {
        return digest.getEncodedState();
      }

      @Override
      public byte[] digest() {
        SHA256Digest copy = new SHA256Digest(digest);
        byte[] out = new byte[32];
        copy.doFinal(out, 0);
        return out;
      }
    };
  }

  private static List<Side> sides() {
    return List.of(
        new Side("jdk", s -> ours(JDK.restore(s)), () -> ours(JDK.newHasher())),
        new Side(
            "ours-bc", s -> ours(BOUNCY_CASTLE.restore(s)), () -> ours(BOUNCY_CASTLE.newHasher())),
        new Side(
            "SHA256Digest",
            s -> bouncyCastleDigest(new SHA256Digest(s)),
            () -> bouncyCastleDigest(new SHA256Digest())));
  }

  @Test
  void jdkImplementation_inUseWhenPackageIsOpen() {
    assertThat(Object.class.getModule().isOpen("sun.security.provider", Sha256.class.getModule()))
        .as("the build opens java.base/sun.security.provider to tests (jdk.internals.opens)")
        .isTrue();
    assertThat(JdkSha256.available())
        .as("the JDK's SHA-256 is usable; if a JDK changed its fields, this says how: %s",
            JdkSha256.unavailableReason())
        .isTrue();
    assertThat(Sha256.FUNCTION.usesJdk()).isTrue();
    assertThat(Sha256.FUNCTION.implementation()).startsWith("JDK");
    assertThat(Sha256.FUNCTION.newHasher()).isInstanceOf(JdkSha256.class);
    assertThat(BOUNCY_CASTLE.newHasher()).isInstanceOf(BouncyCastleHasher.class);
  }

  @Test
  void knownDigests_fromEveryImplementation() {
    for (Sha256 f : List.of(JDK, BOUNCY_CASTLE)) {
      assertThat(hex(f.newHasher().digest()))
          .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      ContentHasher h = f.newHasher();
      h.update(ByteBuffer.wrap("abc".getBytes(StandardCharsets.US_ASCII)));
      assertThat(hex(h.digest()))
          .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
  }

  @Test
  void savedState_isBouncyCastlesEncoding_afterAnyLength() {
    Random random = new Random(1);
    for (int length : LENGTHS) {
      byte[] data = bytes(random, length);
      List<byte[]> states = new ArrayList<>();
      for (Side side : sides()) {
        Hashing h = side.fresh().get();
        h.update(data, 0, length, random);
        states.add(h.state());
      }
      for (byte[] state : states) {
        assertThat(state).as("state after %d bytes", length).isEqualTo(states.get(2));
      }
    }
  }

  @Test
  void savedState_restoresInEveryImplementation_andHashesOnToTheSameDigest() {
    Random random = new Random(2);
    for (int length : LENGTHS) {
      for (int round = 0; round < 4; round++) {
        byte[] data = bytes(random, length);
        byte[] expected = sha256(data);
        int split = length == 0 ? 0 : random.nextInt(length + 1);
        for (Side from : sides()) {
          for (Side to : sides()) {
            Hashing first = from.fresh().get();
            first.update(data, 0, split, random);
            Hashing second = to.restore().apply(first.state());
            second.update(data, split, length, random);
            assertThat(second.digest())
                .as("%d bytes split at %d, saved by %s, restored by %s",
                    length, split, from.name(), to.name())
                .isEqualTo(expected);
          }
        }
      }
    }
  }

  @Test
  void savedState_passesThroughManyProcesses_alternatingImplementations() {
    Random random = new Random(3);
    for (int round = 0; round < 20; round++) {
      int length = random.nextInt(300_000);
      byte[] data = bytes(random, length);
      List<Side> sides = sides();
      Hashing current = sides.get(random.nextInt(3)).fresh().get();
      int at = 0;
      while (at < length) {
        int next = Math.min(length, at + random.nextInt(random.nextBoolean() ? 100 : 50_000));
        current.update(data, at, next, random);
        // A digest in between must leave the state as it was.
        byte[] prefixDigest = current.digest();
        assertThat(prefixDigest).isEqualTo(sha256(data, next));
        current = sides.get(random.nextInt(3)).restore().apply(current.state());
        at = next;
      }
      assertThat(current.digest()).isEqualTo(sha256(data));
    }
  }

  @Test
  void restore_rejectsWhatIsNotASavedState() {
    SHA256Digest reference = new SHA256Digest();
    reference.update(new byte[70], 0, 70);
    byte[] good = reference.getEncodedState(); // 6 bytes pending: one word, two partial bytes
    List<byte[]> bad = new ArrayList<>();
    bad.add(new byte[0]);
    bad.add(new byte[52]);
    bad.add(new byte[54]);
    bad.add(new byte[53 + 4 * 16]);
    bad.add(Arrays.copyOf(good, good.length + 4));
    bad.add(Arrays.copyOf(good, good.length - 4));
    bad.add(with(good, b -> b.putInt(4, 4)));
    bad.add(with(good, b -> b.putInt(4, -1)));
    bad.add(with(good, b -> b.putLong(8, 71)));
    bad.add(with(good, b -> b.putLong(8, -58)));
    bad.add(with(good, b -> b.putInt(48, 2)));
    bad.add(with(good, b -> b.putInt(48, -1)));
    bad.add(with(good, b -> b.put(good.length - 1, (byte) 200)));
    bad.add("not a state at all, just some text that is long enough to look like one"
        .getBytes(StandardCharsets.US_ASCII));
    for (Sha256 f : List.of(JDK, BOUNCY_CASTLE)) {
      assertThat(f.restore(good).digest()).isEqualTo(bouncyCastleDigest(reference).digest());
      for (byte[] state : bad) {
        assertThatThrownBy(() -> f.restore(state))
            .as("%s restoring %s", f.implementation(), hex(state))
            .isInstanceOf(IllegalArgumentException.class);
      }
      assertThatThrownBy(() -> f.restore(null)).isInstanceOf(NullPointerException.class);
    }
  }

  @Test
  void restore_ofRandomBytes_failsOnlyWithIllegalArgument() {
    Random random = new Random(4);
    for (int i = 0; i < 20_000; i++) {
      byte[] state = bytes(random, random.nextInt(130));
      if (random.nextBoolean() && state.length >= 53) {
        // Make the shape plausible so the deeper checks run too.
        ByteBuffer b = ByteBuffer.wrap(state);
        int words = (state.length - 53) / 4;
        b.putInt(48, words);
        b.putInt(4, random.nextInt(4));
        state[state.length - 1] = (byte) random.nextInt(12);
      }
      for (Sha256 f : List.of(JDK, BOUNCY_CASTLE)) {
        try {
          f.restore(state).digest();
        } catch (IllegalArgumentException expected) {
          // The contract: anything else is a bug.
        } catch (RuntimeException e) {
          fail("restoring " + hex(state) + " threw " + e, e);
        }
      }
    }
  }

  @Test
  void withoutOpenPackage_fallsBackToBouncyCastle_andStillResumes() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(), "-cp", System.getProperty("java.class.path"),
                Sha256Probe.class.getName())
            .redirectErrorStream(true)
            .start();
    String out;
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as(out).isZero();
    SHA256Digest reference = new SHA256Digest();
    byte[] probeInput = Sha256Probe.input();
    reference.update(probeInput, 0, 100);
    byte[] state = reference.getEncodedState();
    assertThat(out.lines().toList())
        .containsExactly(
            "implementation Bouncy Castle",
            "state " + hex(state),
            "digest " + hex(sha256(probeInput)));
  }

  private static byte[] with(byte[] state, Consumer<ByteBuffer> change) {
    byte[] copy = state.clone();
    change.accept(ByteBuffer.wrap(copy));
    return copy;
  }

  private static byte[] bytes(Random random, int length) {
    byte[] b = new byte[length];
    random.nextBytes(b);
    return b;
  }

  private static byte[] sha256(byte[] data) {
    return sha256(data, data.length);
  }

  private static byte[] sha256(byte[] data, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(data, 0, length);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** Run in a JVM without the open package: prints what SHA-256 does there. */
  static final class Sha256Probe {
    static byte[] input() {
      byte[] b = new byte[1000];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (i * 7);
      }
      return b;
    }

    public static void main(String[] args) throws IOException {
      byte[] input = input();
      ContentHasher first = Sha256.FUNCTION.newHasher();
      first.update(ByteBuffer.wrap(input, 0, 100));
      byte[] state = first.exportState();
      ContentHasher second = Sha256.FUNCTION.restore(state);
      second.update(ByteBuffer.wrap(input, 100, input.length - 100));
      String implementation = Sha256.FUNCTION.implementation();
      System.out.println(
          "implementation "
              + (implementation.startsWith("Bouncy Castle (") ? "Bouncy Castle" : implementation));
      System.out.println("state " + hex(state));
      System.out.println("digest " + hex(second.digest()));
    }
  }
}
