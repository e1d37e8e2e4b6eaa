package dev.bytestreams3.service.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

class StoreFailureLogTest {

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final AtomicLong now = new AtomicLong();
  private final StoreFailureLog log =
      new StoreFailureLog(
          new EventLog(LogFormat.TEXT, lines::add, Clock.systemUTC()),
          Duration.ofSeconds(30),
          Duration.ofMinutes(1),
          now::get);

  private static S3Exception s3(int status, String code) {
    return (S3Exception)
        S3Exception.builder()
            .statusCode(status)
            .awsErrorDetails(
                AwsErrorDetails.builder().errorCode(code).errorMessage("Please reduce your request rate.").build())
            .build();
  }

  private void advanceSeconds(long s) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(s));
  }

  @Test
  void aThousandFailuresOneSecondApart_areOneBurst_loggedOnceAndOncePerMinuteAfter() {
    for (int i = 0; i < 100; i++) {
      log.failed("UploadPart", s3(503, "SlowDown"));
      advanceSeconds(1);
    }
    // 100 s of failures: the first line, then one a minute.
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .contains("level=warn", "event=store-unavailable", "operation=UploadPart", "cause=\"HTTP 503 SlowDown\"")
        .doesNotContain("reduce");
    assertThat(lines.get(1)).contains("event=store-unavailable", "failures_since_last_line=60");
  }

  @Test
  void aSuccessAfterAQuietSpell_endsTheBurst_andTheNextFailureStartsANewOne() {
    log.failed(
        "HeadObject",
        SdkClientException.create("Unable to execute HTTP request", new IOException("Connection reset")));
    advanceSeconds(5);
    log.succeededNow(); // too soon: other requests may still be failing
    log.failed("HeadObject", s3(500, "InternalError"));
    advanceSeconds(31);
    log.succeededNow();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains("event=store-unavailable", "cause=\"IOException: Connection reset\"");
    assertThat(lines.get(1)).contains("level=info", "event=store-available", "failures_in_burst=2");

    log.failed("GetObject", s3(503, "SlowDown"));
    assertThat(lines).hasSize(3);
    assertThat(lines.get(2)).contains("event=store-unavailable", "operation=GetObject");
  }

  @Test
  void answersS3GivesByDesign_andCancelledRequests_areNotFailures() {
    assertThat(StoreFailureLog.isUnavailable(s3(404, "NoSuchKey"))).isFalse();
    assertThat(StoreFailureLog.isUnavailable(s3(412, "PreconditionFailed"))).isFalse();
    assertThat(StoreFailureLog.isUnavailable(SdkClientException.create("cancelled"))).isFalse();
    assertThat(StoreFailureLog.isUnavailable(s3(503, "SlowDown"))).isTrue();
    assertThat(StoreFailureLog.isUnavailable(s3(500, "InternalError"))).isTrue();
    assertThat(
            StoreFailureLog.isUnavailable(
                SdkClientException.create("Unable to execute HTTP request", new IOException("reset"))))
        .isTrue();
  }
}
