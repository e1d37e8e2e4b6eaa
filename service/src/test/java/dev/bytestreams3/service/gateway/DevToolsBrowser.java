package dev.bytestreams3.service.gateway;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real headless Chromium driven over the DevTools protocol: navigate, set a file input, run
 * script, read the page. Only what the upload-page test needs.
 */
final class DevToolsBrowser implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  /** The Chromium executable on this machine, if any. */
  static Optional<Path> find() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  static DevToolsBrowser launch(Path executable, Path profileDir) throws Exception {
    Process p =
        new ProcessBuilder(
                executable.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--user-data-dir=" + profileDir, "about:blank")
            .redirectErrorStream(true)
            .start();
    CompletableFuture<String> browserUrl = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  Matcher m = LISTENING.matcher(line);
                  if (m.find()) {
                    browserUrl.complete(m.group(1));
                  }
                }
              } catch (IOException e) {
                // The browser ended.
              }
              browserUrl.completeExceptionally(new IllegalStateException("chromium exited"));
            },
            "chromium-log");
    reader.setDaemon(true);
    reader.start();
    try {
      URI ws = URI.create(browserUrl.get(60, TimeUnit.SECONDS));
      HttpClient http = HttpClient.newHttpClient();
      String list =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://" + ws.getAuthority() + "/json/list")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      String pageUrl = null;
      for (JsonElement e : JsonParser.parseString(list).getAsJsonArray()) {
        JsonObject t = e.getAsJsonObject();
        if (t.get("type").getAsString().equals("page")) {
          pageUrl = t.get("webSocketDebuggerUrl").getAsString();
        }
      }
      if (pageUrl == null) {
        throw new IllegalStateException("chromium has no page: " + list);
      }
      DevToolsBrowser b = new DevToolsBrowser(p, http, URI.create(pageUrl));
      return b;
    } catch (Exception e) {
      p.destroyForcibly();
      throw e;
    }
  }

  private DevToolsBrowser(Process process, HttpClient http, URI page) throws Exception {
    this.process = process;
    this.socket =
        http.newWebSocketBuilder()
            .buildAsync(
                page,
                new WebSocket.Listener() {
                  private final StringBuilder text = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                      JsonObject o = JsonParser.parseString(text.toString()).getAsJsonObject();
                      text.setLength(0);
                      if (o.has("id")) {
                        CompletableFuture<JsonObject> f = pending.remove(o.get("id").getAsInt());
                        if (f != null) {
                          if (o.has("error")) {
                            f.completeExceptionally(new IllegalStateException(o.get("error").toString()));
                          } else {
                            f.complete(o.getAsJsonObject("result"));
                          }
                        }
                      }
                    }
                    ws.request(1);
                    return null;
                  }
                })
            .get(30, TimeUnit.SECONDS);
  }

  /** Sends one DevTools command and waits for its result. */
  JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    JsonObject msg = new JsonObject();
    msg.addProperty("id", id);
    msg.addProperty("method", method);
    msg.add("params", params);
    CompletableFuture<JsonObject> f = new CompletableFuture<>();
    pending.put(id, f);
    socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
    return f.get(60, TimeUnit.SECONDS);
  }

  /** Evaluates {@code expression} in the page and returns its value as a string. */
  String eval(String expression) throws Exception {
    JsonObject p = new JsonObject();
    p.addProperty("expression", expression);
    p.addProperty("returnByValue", true);
    p.addProperty("awaitPromise", true);
    JsonObject r = call("Runtime.evaluate", p).getAsJsonObject("result");
    return r.has("value") && !r.get("value").isJsonNull() ? r.get("value").getAsString() : null;
  }

  void navigate(String url) throws Exception {
    JsonObject p = new JsonObject();
    p.addProperty("url", url);
    call("Page.navigate", p);
    waitFor("document.readyState === 'complete' && location.href === " + quote(url), Duration.ofSeconds(30));
  }

  /** Sets the files of the input {@code selector}, as a user choosing them would. */
  void setFile(String selector, Path file) throws Exception {
    int root = call("DOM.getDocument", new JsonObject()).getAsJsonObject("root").get("nodeId").getAsInt();
    JsonObject q = new JsonObject();
    q.addProperty("nodeId", root);
    q.addProperty("selector", selector);
    int node = call("DOM.querySelector", q).get("nodeId").getAsInt();
    JsonObject s = new JsonObject();
    JsonArray files = new JsonArray();
    files.add(file.toAbsolutePath().toString());
    s.add("files", files);
    s.addProperty("nodeId", node);
    call("DOM.setFileInputFiles", s);
  }

  /** Waits until {@code condition} is true in the page. */
  void waitFor(String condition, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!"true".equals(eval("String(" + condition + ")"))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + condition);
      }
      Thread.sleep(100);
    }
  }

  static String quote(String s) {
    JsonArray a = new JsonArray();
    a.add(s);
    String t = a.toString();
    return t.substring(1, t.length() - 1);
  }

  @Override
  public void close() throws Exception {
    socket.abort();
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
