# Plans with the real AWS provider instead of a mock, so that the provider's
# own plan-time checks (enumerations, attribute combinations, ARN formats) see
# the configuration. It needs no AWS account and makes no AWS calls: the
# credentials are placeholders that are never validated, and every data
# source is overridden.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline-plan-only"
  secret_key                  = "offline-plan-only"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  max_retries                 = 1
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "111122223333" }
}

override_data {
  target = data.aws_subnet.private
  values = { vpc_id = "vpc-0a1b2c3d4e5f60718" }
}

override_data {
  target = data.aws_subnet.lb
  values = { vpc_id = "vpc-0a1b2c3d4e5f60718" }
}

override_data {
  target = data.aws_prefix_list.s3
  values = { id = "pl-6da54004" }
}

variables {
  region              = "eu-west-1"
  bucket_name         = "example-bs3-cache"
  vpc_id              = "vpc-0a1b2c3d4e5f60718"
  private_subnet_ids  = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  lb_subnet_ids       = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
  route_table_ids     = ["rtb-0ccccccccccccccc1"]
  allowed_cidr_blocks = ["10.0.0.0/16"]
  container_image     = "registry.example.com/bytestream-s3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
}

run "plain_tcp_with_every_option_on" {
  command = plan

  variables {
    key_prefix            = "cache/"
    cache_expiration_days = 30
    memory_target_percent = 70
    container_insights    = true
    cpu_architecture      = "ARM64"
  }

  assert {
    condition     = aws_lb_listener.grpc.protocol == "TCP" && aws_lb_listener.grpc.tcp_idle_timeout_seconds == 3600
    error_message = "The provider must accept a TCP listener with the idle timeout."
  }
}

run "tls_and_kms" {
  command = plan

  variables {
    kms_key_arn     = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    lb_internal     = false
  }

  assert {
    condition     = aws_lb_listener.grpc.protocol == "TLS" && aws_lb_listener.grpc.alpn_policy == "HTTP2Preferred"
    error_message = "The provider must accept TLS listeners with ALPN."
  }
}
