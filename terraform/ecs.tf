locals {
  # Memory sizes Fargate accepts for each CPU size.
  fargate_memory = {
    "256"   = [512, 1024, 2048]
    "512"   = range(1024, 4096 + 1, 1024)
    "1024"  = range(2048, 8192 + 1, 1024)
    "2048"  = range(4096, 16384 + 1, 1024)
    "4096"  = range(8192, 30720 + 1, 1024)
    "8192"  = range(16384, 61440 + 1, 4096)
    "16384" = range(32768, 122880 + 1, 8192)
  }

  container_health_check_command = coalesce(
    var.container_health_check_command,
    ["CMD-SHELL", "curl -fsS http://127.0.0.1:${var.http_port}/healthz >/dev/null || exit 1"],
  )

  requested_environment = merge(var.extra_environment, {
    BS3_BUCKET                 = var.bucket_name
    BS3_PREFIX                 = var.key_prefix
    BS3_REGION                 = var.region
    BS3_GRPC_PORT              = tostring(var.grpc_port)
    BS3_HTTP_PORT              = tostring(var.http_port)
    BS3_SHUTDOWN_GRACE_SECONDS = tostring(var.shutdown_grace_seconds)
    # The server refreshes blobs in use before the bucket's expiry rule would delete them, so it
    # must know the rule's age: both come from this one variable.
    BS3_EXPIRY_AGE_DAYS = local.cache_expiration_enabled ? tostring(var.cache_expiration_days) : ""
    # The local disk tier lives on the task's ephemeral storage, mounted below.
    BS3_CACHE_DIR       = local.tier_enabled ? local.tier_path : ""
    BS3_CACHE_MAX_BYTES = local.tier_enabled ? format("%d", var.cache_size_gib * 1073741824) : ""
  })

  tier_enabled = var.cache_size_gib > 0
  tier_path    = "/var/cache/bytestream-s3"
  # Fargate gives every task 20 GiB unless asked for 21-200; the image and logs need room too.
  ephemeral_storage_gib = max(21, var.cache_size_gib + 10)

  # ECS drops variables whose value is empty, and the provider would then
  # report a difference on every plan, so empty values are left out here.
  server_environment = { for k, v in local.requested_environment : k => v if v != "" }

  container_definitions = [
    {
      name      = local.container_name
      image     = var.container_image
      essential = true

      environment = [
        for k in sort(keys(local.server_environment)) : { name = k, value = local.server_environment[k] }
      ]

      mountPoints = local.tier_enabled ? [
        { sourceVolume = "tier", containerPath = local.tier_path, readOnly = false },
      ] : []

      portMappings = [
        { name = "grpc", containerPort = var.grpc_port, hostPort = var.grpc_port, protocol = "tcp" },
        { name = "http", containerPort = var.http_port, hostPort = var.http_port, protocol = "tcp" },
      ]

      healthCheck = {
        command     = local.container_health_check_command
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = var.health_check_start_period_seconds
      }

      stopTimeout = local.stop_timeout_seconds

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.server.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "server"
        }
      }
    },
  ]
}

resource "aws_ecs_cluster" "this" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }
}

resource "aws_cloudwatch_log_group" "server" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "server" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode(local.container_definitions)

  # A bind mount without a host path: task-scoped space on the ephemeral storage, gone with the task.
  dynamic "volume" {
    for_each = local.tier_enabled ? ["tier"] : []
    content {
      name = volume.value
    }
  }

  dynamic "ephemeral_storage" {
    for_each = local.tier_enabled ? [local.ephemeral_storage_gib] : []
    content {
      size_in_gib = ephemeral_storage.value
    }
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  lifecycle {
    precondition {
      condition     = contains(local.fargate_memory[tostring(var.cpu)], var.memory)
      error_message = "memory ${var.memory} is not a size Fargate offers for cpu ${var.cpu}; allowed: ${join(", ", local.fargate_memory[tostring(var.cpu)])}."
    }

    precondition {
      condition     = var.grpc_port != var.http_port
      error_message = "grpc_port and http_port must differ."
    }
  }
}

resource "aws_ecs_service" "server" {
  name            = local.service_name
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.server.arn
  launch_type     = "FARGATE"
  desired_count   = var.desired_count

  # Replace tasks without ever dropping below the configured capacity.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Fargate places tasks across the subnets' availability zones; rebalancing
  # restores the spread after an AZ recovers or after scaling.
  availability_zone_rebalancing = "ENABLED"

  health_check_grace_period_seconds = var.health_check_start_period_seconds

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.grpc.arn
    container_name   = local.container_name
    container_port   = var.grpc_port
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.http.arn
    container_name   = local.container_name
    container_port   = var.http_port
  }

  # Target groups must be attached to the load balancer before ECS can
  # register tasks in them.
  depends_on = [
    aws_lb_listener.grpc,
    aws_lb_listener.http,
    aws_iam_role_policy.task_bucket,
  ]

  lifecycle {
    # Autoscaling owns the running count once the service exists.
    ignore_changes = [desired_count]

    precondition {
      condition     = length(distinct([for s in data.aws_subnet.private : s.availability_zone])) >= 2
      error_message = "private_subnet_ids must span at least two availability zones."
    }

    precondition {
      condition     = alltrue([for s in data.aws_subnet.private : s.vpc_id == var.vpc_id])
      error_message = "Every subnet in private_subnet_ids must belong to vpc_id."
    }
  }
}
