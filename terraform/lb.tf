locals {
  listener_protocol = local.tls_enabled ? "TLS" : "TCP"

  # AWS fixes the idle timeout of TLS listeners at 350 seconds; only TCP
  # listeners accept tcp.idle_timeout.seconds.
  listener_idle_timeout = local.tls_enabled ? null : var.tcp_idle_timeout_seconds

  target_health_check = {
    protocol            = "HTTP"
    port                = tostring(var.http_port)
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb" "this" {
  name               = "${var.name}-nlb"
  load_balancer_type = "network"
  internal           = var.lb_internal
  subnets            = var.lb_subnet_ids
  security_groups    = [aws_security_group.lb.id]

  # Each load balancer node forwards to tasks in every zone, so a zone with
  # fewer tasks does not receive an outsized share of connections.
  enable_cross_zone_load_balancing = true

  lifecycle {
    precondition {
      condition     = alltrue([for s in data.aws_subnet.lb : s.vpc_id == var.vpc_id])
      error_message = "Every subnet in lb_subnet_ids must belong to vpc_id."
    }

    precondition {
      condition     = length(distinct([for s in data.aws_subnet.lb : s.availability_zone])) == length(data.aws_subnet.lb)
      error_message = "lb_subnet_ids must name one subnet per availability zone."
    }
  }
}

resource "aws_lb_target_group" "grpc" {
  name        = "${var.name}-grpc"
  vpc_id      = var.vpc_id
  target_type = "ip"
  protocol    = "TCP"
  port        = var.grpc_port

  # The load balancer security group, not the client address, is what the
  # task security group admits.
  preserve_client_ip = "false"

  # Stopping tasks keep serving established connections for the server's
  # shutdown grace period before ECS signals them.
  deregistration_delay = tostring(var.shutdown_grace_seconds)

  # gRPC readiness is reported on the HTTP port.
  health_check {
    enabled             = true
    protocol            = local.target_health_check.protocol
    port                = local.target_health_check.port
    path                = local.target_health_check.path
    matcher             = local.target_health_check.matcher
    interval            = local.target_health_check.interval
    timeout             = local.target_health_check.timeout
    healthy_threshold   = local.target_health_check.healthy_threshold
    unhealthy_threshold = local.target_health_check.unhealthy_threshold
  }
}

resource "aws_lb_target_group" "http" {
  name                 = "${var.name}-http"
  vpc_id               = var.vpc_id
  target_type          = "ip"
  protocol             = "TCP"
  port                 = var.http_port
  preserve_client_ip   = "false"
  deregistration_delay = tostring(var.shutdown_grace_seconds)

  health_check {
    enabled             = true
    protocol            = local.target_health_check.protocol
    port                = local.target_health_check.port
    path                = local.target_health_check.path
    matcher             = local.target_health_check.matcher
    interval            = local.target_health_check.interval
    timeout             = local.target_health_check.timeout
    healthy_threshold   = local.target_health_check.healthy_threshold
    unhealthy_threshold = local.target_health_check.unhealthy_threshold
  }
}

resource "aws_lb_listener" "grpc" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.grpc_port
  protocol          = local.listener_protocol

  certificate_arn = var.certificate_arn
  ssl_policy      = local.tls_enabled ? var.tls_policy : null
  # gRPC clients offer h2 only; the server behind the listener speaks
  # cleartext HTTP/2.
  alpn_policy = local.tls_enabled ? "HTTP2Preferred" : null

  tcp_idle_timeout_seconds = local.listener_idle_timeout

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.grpc.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.http_port
  protocol          = local.listener_protocol

  certificate_arn = var.certificate_arn
  ssl_policy      = local.tls_enabled ? var.tls_policy : null
  alpn_policy     = local.tls_enabled ? "HTTP1Only" : null

  tcp_idle_timeout_seconds = local.listener_idle_timeout

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.http.arn
  }
}
