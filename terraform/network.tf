locals {
  service_ports = {
    grpc = var.grpc_port
    http = var.http_port
  }

  lb_ingress = {
    for pair in setproduct(keys(local.service_ports), var.allowed_cidr_blocks) :
    "${pair[0]}-${pair[1]}" => {
      port = local.service_ports[pair[0]]
      cidr = pair[1]
    }
  }
}

data "aws_subnet" "private" {
  for_each = toset(var.private_subnet_ids)
  id       = each.value
}

data "aws_subnet" "lb" {
  for_each = toset(var.lb_subnet_ids)
  id       = each.value
}

# Prefix list of S3 in this region, used to let the tasks reach S3 on 443.
data "aws_prefix_list" "s3" {
  name = "com.amazonaws.${var.region}.s3"
}

# ---------------------------------------------------------------------------
# S3 gateway endpoint: traffic to S3 stays on the AWS network and costs no
# NAT processing.
# ---------------------------------------------------------------------------

resource "aws_vpc_endpoint" "s3" {
  count = var.create_s3_gateway_endpoint ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids

  tags = {
    Name = "${var.name}-s3"
  }

  lifecycle {
    precondition {
      condition     = length(var.route_table_ids) >= 1
      error_message = "route_table_ids must list the private subnets' route tables when create_s3_gateway_endpoint is true."
    }
  }
}

# ---------------------------------------------------------------------------
# Load balancer security group: clients in allowed_cidr_blocks reach the two
# listeners; the load balancer reaches the tasks on the same two ports.
# ---------------------------------------------------------------------------

resource "aws_security_group" "lb" {
  name        = "${var.name}-nlb"
  description = "Clients to the ${var.name} load balancer"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name}-nlb"
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_from_clients" {
  for_each = local.lb_ingress

  security_group_id = aws_security_group.lb.id
  description       = "Clients to port ${each.value.port}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "lb_to_tasks" {
  for_each = local.service_ports

  security_group_id            = aws_security_group.lb.id
  description                  = "Forwarding and health checks to the tasks (${each.key})"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.tasks.id
}

# ---------------------------------------------------------------------------
# Task security group: only the load balancer may connect, and the tasks may
# only open HTTPS connections (S3, ECR, CloudWatch Logs). DNS through the VPC
# resolver is not subject to security groups.
# ---------------------------------------------------------------------------

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "The ${var.name} server tasks"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name}-tasks"
  }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_lb" {
  for_each = local.service_ports

  security_group_id            = aws_security_group.tasks.id
  description                  = "Load balancer to the server (${each.key})"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.lb.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_s3" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  for_each = toset(var.task_https_egress_cidr_blocks)

  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to ECR and CloudWatch Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}
