# The ECS service: capacity, deployments, shutdown timing, container settings, autoscaling.

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

run "service_keeps_at_least_two_tasks" {
  command = plan

  assert {
    condition     = aws_ecs_service.server.desired_count >= 2 && aws_ecs_service.server.desired_count == var.desired_count
    error_message = "The service must start desired_count tasks, at least 2."
  }

  assert {
    condition     = aws_appautoscaling_target.service.min_capacity >= 2 && aws_appautoscaling_target.service.min_capacity == var.desired_count
    error_message = "The autoscaling minimum must equal desired_count and be at least 2."
  }

  assert {
    condition     = aws_appautoscaling_target.service.max_capacity == var.max_count
    error_message = "The autoscaling maximum must be max_count."
  }

  assert {
    condition     = aws_appautoscaling_target.service.resource_id == "service/bytestream-s3/bytestream-s3"
    error_message = "Autoscaling must target the service."
  }
}

run "larger_capacity_is_passed_through" {
  command = plan

  variables {
    desired_count = 3
    max_count     = 12
  }

  assert {
    condition     = aws_ecs_service.server.desired_count == 3 && aws_appautoscaling_target.service.min_capacity == 3 && aws_appautoscaling_target.service.max_capacity == 12
    error_message = "desired_count and max_count must reach the service and the scaling target."
  }
}

run "deployments_never_reduce_capacity" {
  command = plan

  assert {
    condition     = aws_ecs_service.server.deployment_minimum_healthy_percent == 100 && aws_ecs_service.server.deployment_maximum_percent == 200
    error_message = "Deployments must keep 100% healthy and may surge to 200%."
  }

  assert {
    condition     = aws_ecs_service.server.launch_type == "FARGATE" && one(aws_ecs_service.server.network_configuration).assign_public_ip == false
    error_message = "Tasks must run on Fargate without public IPs."
  }

  assert {
    condition     = toset(one(aws_ecs_service.server.network_configuration).subnets) == toset(var.private_subnet_ids)
    error_message = "Tasks must be placed in every private subnet."
  }
}

run "stop_timeout_covers_the_grace_period" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].stopTimeout == 45
    error_message = "With the default 30 s grace the stop timeout must be 30 + 15 = 45 s."
  }

  assert {
    condition     = aws_lb_target_group.grpc.deregistration_delay == "30" && aws_lb_target_group.http.deregistration_delay == "30"
    error_message = "The load balancer must drain for the shutdown grace period."
  }
}

run "stop_timeout_is_capped_at_fargate_limit" {
  command = plan

  variables {
    shutdown_grace_seconds = 105
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].stopTimeout == 120
    error_message = "The stop timeout must never exceed 120 s."
  }

  assert {
    condition = contains(
      jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment,
      { name = "BS3_SHUTDOWN_GRACE_SECONDS", value = "105" },
    )
    error_message = "The server must be told the grace period the stop timeout was derived from."
  }
}

run "container_is_configured_for_the_server" {
  command = plan

  variables {
    key_prefix = "bs3/"
    extra_environment = {
      JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=75"
    }
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment == [
      { name = "BS3_BUCKET", value = "example-bs3-cache" },
      { name = "BS3_CACHE_DIR", value = "/var/cache/bytestream-s3" },
      { name = "BS3_CACHE_MAX_BYTES", value = "21474836480" },
      { name = "BS3_GRPC_PORT", value = "8980" },
      { name = "BS3_HTTP_PORT", value = "8080" },
      { name = "BS3_PREFIX", value = "bs3/" },
      { name = "BS3_REGION", value = "eu-west-1" },
      { name = "BS3_SHUTDOWN_GRACE_SECONDS", value = "30" },
      { name = "JAVA_TOOL_OPTIONS", value = "-XX:MaxRAMPercentage=75" },
    ]
    error_message = "The container environment must carry the BS3_* settings and the extra variables."
  }

  assert {
    condition = toset([
      for m in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].portMappings : m.containerPort
    ]) == toset([8980, 8080])
    error_message = "The container must expose the gRPC and HTTP ports."
  }

  assert {
    condition     = strcontains(join(" ", jsondecode(aws_ecs_task_definition.server.container_definitions)[0].healthCheck.command), "http://127.0.0.1:8080/healthz")
    error_message = "The container health check must probe /healthz on the HTTP port."
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].logConfiguration == {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = "/ecs/bytestream-s3"
        "awslogs-region"        = "eu-west-1"
        "awslogs-stream-prefix" = "server"
      }
    }
    error_message = "The container must log to the service's log group through awslogs."
  }

  assert {
    condition     = aws_ecs_task_definition.server.cpu == "1024" && aws_ecs_task_definition.server.memory == "2048" && aws_ecs_task_definition.server.network_mode == "awsvpc"
    error_message = "The task must use the configured Fargate size in awsvpc mode."
  }
}

run "empty_values_are_left_out_of_the_environment" {
  command = plan

  variables {
    extra_environment = { EMPTY = "" }
  }

  assert {
    condition = [
      for e in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment : e.name
    ] == ["BS3_BUCKET", "BS3_CACHE_DIR", "BS3_CACHE_MAX_BYTES", "BS3_GRPC_PORT", "BS3_HTTP_PORT", "BS3_REGION", "BS3_SHUTDOWN_GRACE_SECONDS"]
    error_message = "Variables with empty values (here BS3_PREFIX and EMPTY) must not be sent to ECS."
  }
}

run "log_retention_follows_the_variable" {
  command = plan

  variables {
    log_retention_days = 14
  }

  assert {
    condition     = aws_cloudwatch_log_group.server.retention_in_days == 14 && aws_cloudwatch_log_group.server.name == "/ecs/bytestream-s3"
    error_message = "The log group must keep logs for log_retention_days."
  }
}

run "scaling_on_cpu_only_by_default" {
  command = plan

  assert {
    condition     = one(aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration).target_value == 60
    error_message = "CPU target tracking must aim at cpu_target_percent."
  }

  assert {
    condition     = length(aws_appautoscaling_policy.memory) == 0
    error_message = "No memory policy unless memory_target_percent is set."
  }
}

run "scaling_on_memory_when_asked" {
  command = plan

  variables {
    memory_target_percent = 70
  }

  assert {
    condition     = one(aws_appautoscaling_policy.memory[0].target_tracking_scaling_policy_configuration).target_value == 70
    error_message = "Memory target tracking must aim at memory_target_percent."
  }
}

run "local_tier_is_on_an_ephemeral_volume" {
  command = plan

  variables {
    cache_size_gib = 50
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.server.container_definitions)[0].mountPoints == [
      { sourceVolume = "tier", containerPath = "/var/cache/bytestream-s3", readOnly = false },
    ]
    error_message = "The tier's volume must be mounted where BS3_CACHE_DIR points."
  }

  assert {
    condition = length([
      for v in aws_ecs_task_definition.server.volume : v
      if v.name == "tier" && length(v.efs_volume_configuration) == 0 && length(v.docker_volume_configuration) == 0 && v.host_path == null
    ]) == 1
    error_message = "The tier's volume must be a bind mount without a host path: the task's ephemeral storage."
  }

  assert {
    condition     = aws_ecs_task_definition.server.ephemeral_storage[0].size_in_gib == 60
    error_message = "The task's ephemeral storage must hold the tier plus 10 GiB."
  }

  assert {
    condition = contains(
      jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment,
      { name = "BS3_CACHE_MAX_BYTES", value = "53687091200" },
    )
    error_message = "The server must be told the tier's size in bytes."
  }
}

run "local_tier_can_be_turned_off" {
  command = plan

  variables {
    cache_size_gib = 0
  }

  assert {
    condition = length([
      for e in jsondecode(aws_ecs_task_definition.server.container_definitions)[0].environment : e
      if startswith(e.name, "BS3_CACHE_")
    ]) == 0 && length(aws_ecs_task_definition.server.volume) == 0 && length(aws_ecs_task_definition.server.ephemeral_storage) == 0
    error_message = "cache_size_gib = 0 must leave the tier, its volume and the extra storage out."
  }
}
