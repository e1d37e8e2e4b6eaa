package dev.bytestreams3.service.compression;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;

/**
 * Compresses a stream into one zstd frame piece by piece; each piece's output is returned at once,
 * so nothing but the compressor's window is held between pieces. Not thread-safe.
 */
public final class ZstdEncoder implements AutoCloseable {

  /** Fast: the server compresses on the read path, where throughput matters more than ratio. */
  private static final int LEVEL = 1;

  private final ZstdCompressCtx ctx = new ZstdCompressCtx().setLevel(LEVEL);
  private final ByteBuffer output = ByteBuffer.allocateDirect(128 * 1024);
  private ByteBuffer input = ByteBuffer.allocateDirect(64 * 1024);

  /** Compresses {@code data}; the result may be empty when the compressor keeps it for now. */
  public ByteString encode(ByteBuffer data) {
    load(data);
    return drive(EndDirective.CONTINUE);
  }

  /** Ends the frame, returning the last compressed bytes. */
  public ByteString finish() {
    load(ByteBuffer.allocate(0));
    return drive(EndDirective.END);
  }

  private void load(ByteBuffer data) {
    if (input.capacity() < data.remaining()) {
      input = ByteBuffer.allocateDirect(data.remaining());
    }
    input.clear();
    input.put(data.duplicate());
    input.flip();
  }

  private ByteString drive(EndDirective directive) {
    ByteString.Output out = ByteString.newOutput();
    byte[] copy = new byte[output.capacity()];
    boolean done;
    do {
      output.clear();
      done = ctx.compressDirectByteBufferStream(output, input, directive);
      output.flip();
      int n = output.remaining();
      output.get(copy, 0, n);
      out.write(copy, 0, n);
      if (directive == EndDirective.CONTINUE) {
        done = !input.hasRemaining() && n < output.capacity();
      }
    } while (!done);
    return out.toByteString();
  }

  @Override
  public void close() {
    ctx.close();
  }
}
