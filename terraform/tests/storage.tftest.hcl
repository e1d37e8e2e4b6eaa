# The cache bucket: encryption, public access, TLS-only policy, lifecycle.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_subnet" {
    defaults = { vpc_id = "vpc-0a1b2c3d4e5f60718" }
  }
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

run "abort_incomplete_multipart_uploads_after_configured_days" {
  command = plan

  variables {
    abort_incomplete_multipart_upload_days = 3
  }

  assert {
    condition = length([
      for r in aws_s3_bucket_lifecycle_configuration.cache.rule : r
      if r.status == "Enabled" &&
      try(r.abort_incomplete_multipart_upload[0].days_after_initiation, null) == 3
    ]) == 1
    error_message = "Exactly one enabled lifecycle rule must abort incomplete multipart uploads after abort_incomplete_multipart_upload_days."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.cache.rule) == 1
    error_message = "Without cache_expiration_days only the abort rule may exist."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.cache.rule[0].expiration) == 0
    error_message = "The abort rule must not expire objects."
  }
}

run "abort_rule_default_is_seven_days" {
  command = plan

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.cache.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "The default abort period must be 7 days."
  }
}

run "expiration_applies_to_the_key_prefix" {
  command = plan

  variables {
    key_prefix            = "cache/"
    cache_expiration_days = 30
  }

  assert {
    condition = [
      for r in aws_s3_bucket_lifecycle_configuration.cache.rule : {
        status = r.status
        days   = r.expiration[0].days
        prefix = r.filter[0].prefix
      }
      if length(r.expiration) > 0
      ] == [{
        status = "Enabled"
        days   = 30
        prefix = "cache/"
    }]
    error_message = "cache_expiration_days must add exactly one enabled rule expiring objects below key_prefix."
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.cache.rule) == 2
    error_message = "The abort rule must stay when expiration is on."
  }

  assert {
    condition = contains(
      jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment,
      { name = "BS3_EXPIRY_AGE_DAYS", value = "30" },
    )
    error_message = "The server must be told the expiry rule's age (BS3_EXPIRY_AGE_DAYS), so that it refreshes blobs in use before the rule deletes them."
  }
}

run "expiration_zero_means_off" {
  command = plan

  variables {
    cache_expiration_days = 0
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.cache.rule) == 1
    error_message = "cache_expiration_days = 0 must not add an expiration rule."
  }

  assert {
    condition = length([
      for e in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment : e
      if e.name == "BS3_EXPIRY_AGE_DAYS"
    ]) == 0
    error_message = "Without an expiration rule the server must not be given an expiry age."
  }
}

run "all_public_access_is_blocked" {
  command = plan

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.cache.block_public_acls,
      aws_s3_bucket_public_access_block.cache.block_public_policy,
      aws_s3_bucket_public_access_block.cache.ignore_public_acls,
      aws_s3_bucket_public_access_block.cache.restrict_public_buckets,
    ])
    error_message = "All four public access blocks must be on."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.cache.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled through BucketOwnerEnforced."
  }
}

run "bucket_policy_denies_requests_without_tls" {
  command = plan

  assert {
    condition = length([
      for s in jsondecode(aws_s3_bucket_policy.cache.policy).Statement : s
      if s.Effect == "Deny" &&
      s.Principal == "*" &&
      s.Action == "s3:*" &&
      toset(s.Resource) == toset(["arn:aws:s3:::example-bs3-cache", "arn:aws:s3:::example-bs3-cache/*"]) &&
      s.Condition.Bool["aws:SecureTransport"] == "false"
    ]) == 1
    error_message = "The bucket policy must deny every request made without TLS, on the bucket and its objects."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.cache.policy).Statement : s.Effect == "Deny"
    ])
    error_message = "The bucket policy must not grant anything."
  }
}

run "encryption_defaults_to_s3_managed_keys" {
  command = plan

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.cache.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "Default encryption must be AES256 when no KMS key is given."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.cache.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == null
    error_message = "No KMS key may be configured by default."
  }
}

run "encryption_uses_the_given_kms_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.cache.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "Default encryption must be aws:kms when kms_key_arn is set."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.cache.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
    error_message = "Default encryption must use kms_key_arn."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.cache.rule).bucket_key_enabled == true
    error_message = "S3 Bucket Keys must be on with SSE-KMS."
  }
}
