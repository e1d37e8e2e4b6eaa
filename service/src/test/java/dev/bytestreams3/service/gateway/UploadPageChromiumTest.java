package dev.bytestreams3.service.gateway;

import static dev.bytestreams3.service.gateway.GatewayTest.random;
import static dev.bytestreams3.service.gateway.GatewayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upload page in a real headless Chromium: a 30 MiB file uploaded through the page lands
 * byte for byte, also when the connection is cut in the middle (five times) and the page resumes.
 */
class UploadPageChromiumTest {

  private static final int SIZE = 30 * 1024 * 1024;

  @TempDir Path dir;

  private GatewayHarness h;
  private CuttingProxy proxy;
  private DevToolsBrowser browser;
  private Path file;
  private byte[] data;

  @BeforeEach
  void start() throws Exception {
    Optional<Path> chromium = DevToolsBrowser.find();
    if (chromium.isEmpty()) {
      System.out.println(
          "UploadPageChromiumTest skipped: no chromium on PATH (Debian: apt-get install chromium)");
    }
    Assumptions.assumeTrue(chromium.isPresent(), "no chromium on PATH (Debian: apt-get install chromium)");
    h = new GatewayHarness(dir);
    data = random(SIZE, 21);
    file = dir.resolve("photo.bin");
    Files.write(file, data);
    // Five cuts: Chromium silently retries a cut request from the start a few times before it
    // reports the failure, so the later cuts are the ones the page itself sees and resumes from.
    proxy = new CuttingProxy(h.http.port(), 12L * 1024 * 1024, 5);
    browser = DevToolsBrowser.launch(chromium.get(), Files.createDirectories(dir.resolve("profile")));
    System.out.println("UploadPageChromiumTest runs " + chromium.get());
  }

  @AfterEach
  void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (h != null) {
      h.close();
    }
  }

  private String upload() throws Exception {
    browser.navigate("http://127.0.0.1:" + proxy.port() + "/upload");
    browser.setFile("#file", file);
    browser.waitFor("!document.getElementById('start').disabled", Duration.ofSeconds(10));
    return browser.eval("document.getElementById('name').value");
  }

  private String awaitDone() throws Exception {
    browser.waitFor(
        "/^(done|failed)/.test(document.getElementById('status').textContent)", Duration.ofSeconds(180));
    return browser.eval("document.getElementById('status').textContent");
  }

  private static int firstDifference(byte[] a, byte[] b) {
    int n = java.util.Arrays.mismatch(a, b);
    if (n >= 0) {
      System.out.println("stored " + a.length + " bytes; first difference at " + n
          + "; last at " + lastDifference(a, b));
    }
    return n;
  }

  private static int lastDifference(byte[] a, byte[] b) {
    for (int i = Math.min(a.length, b.length) - 1; i >= 0; i--) {
      if (a[i] != b[i]) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void cutMidUpload_pageResumesAndServerHoldsIdenticalBytes() throws Exception {
    String name = upload();
    assertThat(name).isEqualTo("files/photo.bin");
    browser.eval("document.getElementById('start').click(), 'clicked'");
    String status = awaitDone();
    System.out.println("object upload: " + status + ", proxy cuts: " + proxy.cuts());
    assertThat(proxy.cuts()).isEqualTo(5);
    assertThat(status).matches("done after [1-5] resume\\(s\\)");
    assertThat(browser.eval("document.getElementById('status').dataset.size")).isEqualTo(Integer.toString(SIZE));
    HttpResponse<byte[]> stored = h.getBytes("/raw/files/photo.bin");
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(firstDifference(stored.body(), data)).as("first differing byte").isEqualTo(-1);
    assertThat(browser.eval("document.getElementById('download').getAttribute('href')"))
        .isEqualTo("/raw/files/photo.bin");
  }

  @Test
  void contentAddressedUpload_showsSha256AndIsVerified() throws Exception {
    upload();
    browser.eval("document.getElementById('cas').checked = true, 'checked'");
    browser.eval("document.getElementById('start').click(), 'clicked'");
    String status = awaitDone();
    System.out.println("content-addressed upload: " + status + ", proxy cuts: " + proxy.cuts());
    assertThat(status).startsWith("done");
    String hash = sha256(data);
    assertThat(browser.eval("document.getElementById('result').textContent"))
        .isEqualTo("Stored " + SIZE + " bytes as blobs/" + hash + "/" + SIZE + " (SHA-256 " + hash + ")");
    byte[] stored = h.getBytes("/raw/blobs/" + hash + "/" + SIZE).body();
    assertThat(firstDifference(stored, data)).as("first differing byte").isEqualTo(-1);
    // The link the page shows downloads the same bytes through the browser's own origin.
    assertThat(browser.eval(
            "fetch(document.getElementById('download').href).then(r => r.arrayBuffer())"
                + ".then(b => crypto.subtle.digest('SHA-256', b)).then(d => Array.from(new Uint8Array(d))"
                + ".map(x => x.toString(16).padStart(2, '0')).join(''))"))
        .isEqualTo(hash);
  }
}
