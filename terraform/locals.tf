data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # Built from known values rather than read back from the bucket resource, so
  # that policies are fully known at plan time.
  bucket_arn = "arn:${local.partition}:s3:::${var.bucket_name}"

  kms_enabled = var.kms_key_arn != null
  tls_enabled = var.certificate_arn != null

  cache_expiration_enabled = coalesce(var.cache_expiration_days, 0) > 0

  cluster_name   = var.name
  service_name   = var.name
  container_name = "server"
  log_group_name = "/ecs/${var.name}"

  # ECS sends SIGTERM, then SIGKILL after stopTimeout. The server needs its
  # grace period plus a little time to flush logs and exit; Fargate caps the
  # value at 120 seconds.
  stop_timeout_margin_seconds = 15
  stop_timeout_seconds        = min(var.shutdown_grace_seconds + local.stop_timeout_margin_seconds, 120)
}
