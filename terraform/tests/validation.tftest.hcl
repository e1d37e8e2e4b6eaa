# Inputs that would produce a broken or unsafe deployment are rejected at plan time.

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

run "single_task_is_rejected" {
  command = plan

  variables {
    desired_count = 1
  }

  expect_failures = [var.desired_count]
}

run "idle_timeout_below_range_is_rejected" {
  command = plan

  variables {
    tcp_idle_timeout_seconds = 59
  }

  expect_failures = [var.tcp_idle_timeout_seconds]
}

run "idle_timeout_above_range_is_rejected" {
  command = plan

  variables {
    tcp_idle_timeout_seconds = 6001
  }

  expect_failures = [var.tcp_idle_timeout_seconds]
}

run "idle_timeout_range_ends_are_accepted" {
  command = plan

  variables {
    tcp_idle_timeout_seconds = 6000
  }

  assert {
    condition     = aws_lb_listener.grpc.tcp_idle_timeout_seconds == 6000
    error_message = "6000 s is the largest idle timeout AWS accepts and must pass."
  }
}

run "abort_after_zero_days_is_rejected" {
  command = plan

  variables {
    abort_incomplete_multipart_upload_days = 0
  }

  expect_failures = [var.abort_incomplete_multipart_upload_days]
}

run "negative_expiration_is_rejected" {
  command = plan

  variables {
    cache_expiration_days = -1
  }

  expect_failures = [var.cache_expiration_days]
}

run "max_below_desired_is_rejected" {
  command = plan

  variables {
    desired_count = 4
    max_count     = 3
  }

  expect_failures = [aws_appautoscaling_target.service]
}

run "single_private_subnet_is_rejected" {
  command = plan

  variables {
    private_subnet_ids = ["subnet-0aaaaaaaaaaaaaaa1"]
  }

  expect_failures = [var.private_subnet_ids]
}

run "single_lb_subnet_is_rejected" {
  command = plan

  variables {
    lb_subnet_ids = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb1"]
  }

  expect_failures = [var.lb_subnet_ids]
}

run "private_subnets_in_one_zone_are_rejected" {
  command = plan

  override_data {
    target = data.aws_subnet.private
    values = {
      vpc_id            = "vpc-0a1b2c3d4e5f60718"
      availability_zone = "eu-west-1a"
    }
  }

  expect_failures = [aws_ecs_service.server]
}

run "subnets_of_another_vpc_are_rejected" {
  command = plan

  override_data {
    target = data.aws_subnet.lb
    values = {
      vpc_id = "vpc-0ffffffffffffffff"
    }
  }

  expect_failures = [aws_lb.this]
}

run "grace_beyond_the_stop_limit_is_rejected" {
  command = plan

  variables {
    shutdown_grace_seconds = 106
  }

  expect_failures = [var.shutdown_grace_seconds]
}

run "fargate_size_mismatch_is_rejected" {
  command = plan

  variables {
    cpu    = 256
    memory = 4096
  }

  expect_failures = [aws_ecs_task_definition.server]
}

run "same_port_twice_is_rejected" {
  command = plan

  variables {
    grpc_port = 8080
    http_port = 8080
  }

  expect_failures = [aws_ecs_task_definition.server]
}

run "malformed_kms_key_is_rejected" {
  command = plan

  variables {
    kms_key_arn = "alias/bytestream-s3"
  }

  expect_failures = [var.kms_key_arn]
}

run "malformed_certificate_is_rejected" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::111122223333:server-certificate/bs3"
  }

  expect_failures = [var.certificate_arn]
}

run "bad_cidr_is_rejected" {
  command = plan

  variables {
    allowed_cidr_blocks = ["10.0.0.0/33"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}

run "gateway_endpoint_without_route_tables_is_rejected" {
  command = plan

  variables {
    route_table_ids = []
  }

  expect_failures = [aws_vpc_endpoint.s3]
}

run "overriding_server_settings_is_rejected" {
  command = plan

  variables {
    extra_environment = { BS3_BUCKET = "some-other-bucket" }
  }

  expect_failures = [var.extra_environment]
}

run "invalid_bucket_name_is_rejected" {
  command = plan

  variables {
    bucket_name = "Example_Bucket"
  }

  expect_failures = [var.bucket_name]
}

run "tier_beyond_fargate_storage_is_rejected" {
  command = plan

  variables {
    cache_size_gib = 191
  }

  expect_failures = [var.cache_size_gib]
}
