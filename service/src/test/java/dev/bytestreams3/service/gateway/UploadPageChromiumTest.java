package dev.bytestreams3.service.gateway;

import static dev.bytestreams3.service.gateway.GatewayTest.random;
import static dev.bytestreams3.service.gateway.GatewayTest.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bytestreams3.service.CacheServer;
import dev.bytestreams3.service.resource.ResourceNameParser;
import dev.bytestreams3.service.security.TokenAuthInterceptor;
import dev.bytestreams3.service.security.TokenFile;
import io.grpc.ServerInterceptor;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upload page in a real headless Chromium: a 30 MiB file uploaded through the page lands
 * byte for byte, also when the connection is cut in the middle (five times) or the server is
 * restarted mid-upload and the page resumes; it shows speed and time left, lists what it
 * uploaded, and sends the bearer token the user pasted.
 */
class UploadPageChromiumTest {

  private static final int SIZE = 30 * 1024 * 1024;

  @TempDir Path dir;

  /** 30 MiB take about ten seconds through the slow proxy. */
  private static final long SLOW_BYTES_PER_SECOND = 3L * 1024 * 1024;

  private GatewayHarness h;
  private AutoCloseable proxy;
  private int pagePort;
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
    data = random(SIZE, 21);
    file = dir.resolve("photo.bin");
    Files.write(file, data);
    browser = DevToolsBrowser.launch(chromium.get(), Files.createDirectories(dir.resolve("profile")));
    System.out.println("UploadPageChromiumTest runs " + chromium.get());
  }

  /** A server, and the page reached through a proxy that cuts the first five large requests. */
  private void startCutting() throws Exception {
    h = new GatewayHarness(dir);
    // Five cuts: Chromium silently retries a cut request from the start a few times before it
    // reports the failure, so the later cuts are the ones the page itself sees and resumes from.
    CuttingProxy cutting = new CuttingProxy(h.http.port(), 12L * 1024 * 1024, 5);
    proxy = cutting;
    pagePort = cutting.port();
  }

  /** A server, and the page reached through a proxy slow enough to watch an upload. */
  private SlowProxy startSlow(List<ServerInterceptor> interceptors) throws Exception {
    h = new GatewayHarness(dir, GatewaySettings.defaults(), List.of(), interceptors);
    SlowProxy slow = new SlowProxy(h.http.port(), SLOW_BYTES_PER_SECOND);
    proxy = slow;
    pagePort = slow.port();
    return slow;
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
    browser.navigate("http://127.0.0.1:" + pagePort + "/upload");
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
    startCutting();
    CuttingProxy proxy = (CuttingProxy) this.proxy;
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
    assertThat(sessionList()).isEqualTo("/raw/files/photo.bin " + SIZE + " bytes");
  }

  @Test
  void contentAddressedUpload_showsSha256AndIsVerified() throws Exception {
    startCutting();
    CuttingProxy proxy = (CuttingProxy) this.proxy;
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

  private static final String TOKEN = "upload-page-token-5d1f0a9c";

  /** The page's list of this session's uploads: one line per row, "href size". */
  private String sessionList() throws Exception {
    return browser.eval(
        "Array.from(document.querySelectorAll('#uploads tbody tr'))"
            + ".map(r => r.querySelector('a').getAttribute('href') + ' ' + r.cells[1].title).join('\\n')");
  }

  private String click() throws Exception {
    return browser.eval("document.getElementById('start').click(), 'clicked'");
  }

  private String transfer() throws Exception {
    return browser.eval("document.getElementById('transfer').textContent");
  }

  @Test
  void slowUpload_showsSpeedAndTimeLeft_andListsEveryUploadOfTheSession() throws Exception {
    startSlow(List.of());
    upload();
    click();
    browser.waitFor("/ left$/.test(document.getElementById('transfer').textContent)", Duration.ofSeconds(60));
    String during = transfer();
    System.out.println("while uploading: " + during);
    assertThat(during).matches("[0-9.]+ (B|KiB|MiB) of 30\\.0 MiB · [0-9.]+ (KiB|MiB)/s · [0-9]+ s left");
    // The browser first fills the sockets' buffers at once; once they are full, the speed shown
    // is the proxy's 3 MiB/s.
    browser.waitFor("document.getElementById('progress').value > 0.8", Duration.ofSeconds(60));
    String steady = transfer();
    System.out.println("near the end: " + steady);
    double speed = Double.parseDouble(browser.eval("document.getElementById('transfer').dataset.speed"));
    assertThat(speed).isBetween(1.0 * 1024 * 1024, 6.0 * 1024 * 1024);
    assertThat(awaitDone()).isEqualTo("done");
    assertThat(transfer()).matches("30\\.0 MiB in [0-9]+ s \\([0-9.]+ MiB/s on average\\)");

    browser.eval("document.getElementById('cas').checked = true, 'checked'");
    click();
    browser.waitFor("document.querySelectorAll('#uploads tbody tr').length === 2", Duration.ofSeconds(120));
    String hash = sha256(data);
    assertThat(sessionList())
        .isEqualTo(
            "/raw/files/photo.bin " + SIZE + " bytes\n/raw/blobs/" + hash + "/" + SIZE + " " + SIZE + " bytes");
    // Both links download the file.
    for (String href : List.of("/raw/files/photo.bin", "/raw/blobs/" + hash + "/" + SIZE)) {
      assertThat(firstDifference(h.getBytes(href).body(), data)).as(href).isEqualTo(-1);
    }
  }

  @Test
  void serverRestartedMidUpload_pageWaitsAndResumesFromWhatTheNewServerHolds() throws Exception {
    SlowProxy slow = startSlow(List.of());
    upload();
    click();
    browser.waitFor("document.getElementById('progress').value > 0.4", Duration.ofSeconds(60));
    // The server stops mid-upload; a new one starts on the same store folder a second later.
    h.close();
    h = null;
    Thread.sleep(1000);
    String whileDown = browser.eval("document.getElementById('status').textContent");
    System.out.println("while the server was down: " + whileDown);
    assertThat(whileDown).startsWith("Interrupted (");
    h = new GatewayHarness(dir);
    long before = slow.clientBytes();
    slow.retarget(h.http.port());
    String status = awaitDone();
    long sentAfterRestart = slow.clientBytes() - before;
    System.out.println("after the restart: " + status + ", " + sentAfterRestart + " bytes sent");
    assertThat(status).matches("done after [1-9][0-9]* resume\\(s\\)");
    // Resumed, not started over: the new server received less than the whole file.
    assertThat(sentAfterRestart).isLessThan(SIZE);
    HttpResponse<byte[]> stored = h.getBytes("/raw/files/photo.bin");
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(firstDifference(stored.body(), data)).as("first differing byte").isEqualTo(-1);
    assertThat(sessionList()).isEqualTo("/raw/files/photo.bin " + SIZE + " bytes");
  }

  @Test
  void withToken_pageSendsThePastedBearerToken_andWithoutOneSaysWhatIsWrong() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TOKEN + " read-write files\n");
    TokenFile tokenFile = TokenFile.open(tokens, m -> {});
    h =
        new GatewayHarness(
            dir,
            GatewaySettings.defaults(),
            List.of(),
            List.of(
                new TokenAuthInterceptor(
                    tokenFile::table, new ResourceNameParser(CacheServer.digestFunctions()))));
    pagePort = h.http.port();
    upload();
    click();
    String refused = awaitDone();
    System.out.println("without a token: " + refused);
    assertThat(refused).startsWith("failed: HTTP 401: ");

    browser.eval("document.getElementById('token').value = " + DevToolsBrowser.quote(TOKEN) + ", 'pasted'");
    click();
    browser.waitFor("/^done/.test(document.getElementById('status').textContent)", Duration.ofSeconds(120));
    assertThat(h.getBytes("/raw/files/photo.bin").statusCode()).isEqualTo(401);
    HttpResponse<byte[]> stored = h.getBytes("/raw/files/photo.bin", "Authorization", "Bearer " + TOKEN);
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(firstDifference(stored.body(), data)).as("first differing byte").isEqualTo(-1);
    assertThat(sessionList()).isEqualTo("/raw/files/photo.bin " + SIZE + " bytes");
    // The listed link downloads with the token too (a plain link could not carry it).
    assertThat(
            browser.eval(
                "download(document.querySelector('#uploads a').href).then(b => b.arrayBuffer())"
                    + ".then(b => crypto.subtle.digest('SHA-256', b)).then(d => Array.from(new Uint8Array(d))"
                    + ".map(x => x.toString(16).padStart(2, '0')).join(''))"))
        .isEqualTo(sha256(data));
  }

  @Test
  void namesThatCannotBeStored_failAtOnceSayingWhy() throws Exception {
    h = new GatewayHarness(dir);
    pagePort = h.http.port();
    upload();
    // A browser would resolve '..' before sending, so the page refuses it itself.
    browser.eval("document.getElementById('name').value = 'files/../photo.bin', 'named'");
    click();
    assertThat(awaitDone())
        .isEqualTo("failed: the object name 'files/../photo.bin' has an empty, '.' or '..' segment");
    // A name with a 'blobs' segment is a malformed blob name to the server, which refuses it; the
    // page shows the server's words.
    browser.eval("document.getElementById('name').value = 'files/blobs/photo.bin', 'named'");
    click();
    browser.waitFor("/^failed: HTTP/.test(document.getElementById('status').textContent)", Duration.ofSeconds(60));
    String status = browser.eval("document.getElementById('status').textContent");
    System.out.println("refused name: " + status);
    assertThat(status).startsWith("failed: HTTP 400: ").contains("files/blobs/photo.bin");
    assertThat(sessionList()).isEmpty();
    assertThat(h.getBytes("/raw/photo.bin").statusCode()).isEqualTo(404);
  }
}
