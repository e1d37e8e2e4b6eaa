package dev.bytestreams3.service.gateway;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.ServerBuilder;
import dev.bytestreams3.service.http.HttpRoutes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A static page at {@code /upload} for uploading a file from a browser through the raw routes:
 * progress with speed and time left, automatic resumption from the committed size when the
 * connection drops or the server restarts, a list of this page's uploads with download links, and
 * a bearer token the user may paste (sent as {@code Authorization} on every request the page makes).
 */
public final class UploadPage implements HttpRoutes {

  static final String PATH = "/upload";
  private static final String RESOURCE = "/gateway/upload.html";

  private final byte[] html;

  public UploadPage() {
    try (InputStream in = UploadPage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the class path");
      }
      html = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void addTo(ServerBuilder server) {
    server
        .route()
        .methods(HttpMethod.GET, HttpMethod.HEAD)
        .path(PATH)
        .build(
            (ctx, req) ->
            HttpResponse.of(
                ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(MediaType.HTML_UTF_8)
                    .set("cache-control", "no-store")
                    .build(),
                HttpData.wrap(html)));
  }
}
