package dev.bytestreams3.storage.s3;

import software.amazon.awssdk.core.interceptor.ExecutionAttribute;

/**
 * What the store tells the S3 client's interceptors about a request beyond the request itself.
 */
public final class S3RequestAttributes {

  /**
   * The blob key a request serves, set where its S3 key does not show it: the requests of an
   * upload's record, whose key is a hash ({@code .uploads/{sha256}}). Other requests leave it
   * unset; their S3 key is the store's prefix and the blob key.
   */
  public static final ExecutionAttribute<String> BLOB_KEY = new ExecutionAttribute<>("bs3.blobKey");

  private S3RequestAttributes() {}
}
