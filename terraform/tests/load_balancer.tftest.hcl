# Load balancer, listeners, target groups, security groups and outputs.

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

# Apply runs hand generated values back to the provider's validation, so
# attributes that are checked as ARNs get realistic ones.
override_resource {
  target = aws_lb.this
  values = {
    arn      = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/bytestream-s3-nlb/0123456789abcdef"
    dns_name = "bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target = aws_lb_target_group.grpc
  values = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/bytestream-s3-grpc/0123456789abcdef"
  }
}

override_resource {
  target = aws_lb_target_group.http
  values = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/bytestream-s3-http/fedcba9876543210"
  }
}

override_resource {
  target = aws_iam_role.task
  values = {
    arn = "arn:aws:iam::111122223333:role/bytestream-s3-task"
  }
}

override_resource {
  target = aws_iam_role.execution
  values = {
    arn = "arn:aws:iam::111122223333:role/bytestream-s3-execution"
  }
}

run "internal_tcp_load_balancer_by_default" {
  command = plan

  assert {
    condition     = aws_lb.this.load_balancer_type == "network" && aws_lb.this.internal == true
    error_message = "The load balancer must be an internal NLB by default."
  }

  assert {
    condition     = toset(aws_lb.this.subnets) == toset(var.lb_subnet_ids)
    error_message = "The load balancer must use lb_subnet_ids."
  }

  assert {
    condition = (
      aws_lb_listener.grpc.protocol == "TCP" && aws_lb_listener.grpc.port == 8980 &&
      aws_lb_listener.http.protocol == "TCP" && aws_lb_listener.http.port == 8080
    )
    error_message = "Without a certificate both listeners must be plain TCP on the server ports."
  }

  assert {
    condition     = aws_lb_listener.grpc.certificate_arn == null && aws_lb_listener.grpc.alpn_policy == null
    error_message = "TCP listeners take no certificate and no ALPN policy."
  }
}

run "idle_timeout_follows_the_variable" {
  command = plan

  variables {
    tcp_idle_timeout_seconds = 4200
  }

  assert {
    condition     = aws_lb_listener.grpc.tcp_idle_timeout_seconds == 4200 && aws_lb_listener.http.tcp_idle_timeout_seconds == 4200
    error_message = "Both TCP listeners must use tcp_idle_timeout_seconds."
  }
}

run "idle_timeout_default_is_one_hour" {
  command = plan

  assert {
    condition     = aws_lb_listener.grpc.tcp_idle_timeout_seconds == 3600
    error_message = "The default idle timeout must be 3600 s."
  }
}

run "target_groups_check_readiness_over_http" {
  command = plan

  assert {
    condition = alltrue([
      for tg in [aws_lb_target_group.grpc, aws_lb_target_group.http] :
      tg.target_type == "ip" && tg.protocol == "TCP" &&
      tg.health_check[0].protocol == "HTTP" &&
      tg.health_check[0].path == "/readyz" &&
      tg.health_check[0].port == "8080"
    ])
    error_message = "Both target groups must hold task IPs and probe GET /readyz on the HTTP port."
  }

  assert {
    condition     = aws_lb_target_group.grpc.port == 8980 && aws_lb_target_group.http.port == 8080
    error_message = "Target groups must forward to the server ports."
  }
}

run "tls_listeners_with_a_certificate" {
  command = apply

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = alltrue([
      for l in [aws_lb_listener.grpc, aws_lb_listener.http] :
      l.protocol == "TLS" && l.certificate_arn == var.certificate_arn && l.ssl_policy == var.tls_policy
    ])
    error_message = "With a certificate both listeners must terminate TLS with it."
  }

  assert {
    condition     = aws_lb_listener.grpc.alpn_policy == "HTTP2Preferred" && aws_lb_listener.http.alpn_policy == "HTTP1Only"
    error_message = "gRPC must negotiate HTTP/2 and the health port HTTP/1.1."
  }

  assert {
    condition     = output.grpc_endpoint == "grpcs://bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com:8980"
    error_message = "The gRPC endpoint must use grpcs:// with TLS."
  }

  assert {
    condition     = output.http_endpoint == "https://bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com:8080"
    error_message = "The HTTP endpoint must use https:// with TLS."
  }
}

run "endpoints_use_the_given_hostname" {
  command = apply

  variables {
    certificate_arn   = "arn:aws:acm:eu-west-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    endpoint_hostname = "cache.example.com"
  }

  assert {
    condition     = output.grpc_endpoint == "grpcs://cache.example.com:8980" && output.http_endpoint == "https://cache.example.com:8080"
    error_message = "With endpoint_hostname the endpoints must name that host, which the certificate covers."
  }

  assert {
    condition     = output.lb_dns_name == "bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com"
    error_message = "The load balancer's own name must stay available for the DNS record."
  }
}

run "tls_listeners_leave_the_idle_timeout_to_aws" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  # AWS rejects tcp.idle_timeout.seconds on TLS listeners, so the value handed
  # to both listeners must be null (the mock fills the computed attribute).
  assert {
    condition     = local.listener_idle_timeout == null
    error_message = "TLS listeners must not set tcp_idle_timeout_seconds."
  }
}

run "internet_facing_when_asked" {
  command = plan

  variables {
    lb_internal = false
  }

  assert {
    condition     = aws_lb.this.internal == false
    error_message = "lb_internal = false must make the load balancer internet-facing."
  }
}

run "wiring_and_outputs" {
  command = apply

  assert {
    condition     = output.grpc_endpoint == "grpc://bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com:8980"
    error_message = "Without TLS the gRPC endpoint must use grpc://."
  }

  assert {
    condition     = output.http_endpoint == "http://bytestream-s3-nlb-0123456789.elb.eu-west-1.amazonaws.com:8080"
    error_message = "Without TLS the HTTP endpoint must use http://."
  }

  assert {
    condition     = output.bucket_name == "example-bs3-cache" && output.bucket_arn == aws_s3_bucket.cache.arn && output.log_group_name == "/ecs/bytestream-s3"
    error_message = "Bucket and log group outputs must name the created resources."
  }

  assert {
    condition = {
      for lb in aws_ecs_service.server.load_balancer : lb.target_group_arn => lb.container_port
      } == {
      (aws_lb_target_group.grpc.arn) = 8980
      (aws_lb_target_group.http.arn) = 8080
    }
    error_message = "The service must register its gRPC and HTTP ports with the matching target groups."
  }

  assert {
    condition     = aws_lb.this.security_groups == toset([aws_security_group.lb.id])
    error_message = "The load balancer must use its own security group."
  }

  assert {
    condition     = aws_lb_listener.grpc.default_action[0].target_group_arn == aws_lb_target_group.grpc.arn && aws_lb_listener.http.default_action[0].target_group_arn == aws_lb_target_group.http.arn
    error_message = "Each listener must forward to its own target group."
  }
}

run "tasks_accept_only_the_load_balancer" {
  command = apply

  assert {
    condition = {
      for k, r in aws_vpc_security_group_ingress_rule.tasks_from_lb : k => {
        port = r.from_port
        to   = r.to_port
        src  = r.referenced_security_group_id
        cidr = r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.prefix_list_id == null
      }
      } == {
      grpc = { port = 8980, to = 8980, src = aws_security_group.lb.id, cidr = true }
      http = { port = 8080, to = 8080, src = aws_security_group.lb.id, cidr = true }
    }
    error_message = "The task security group must admit only the two server ports, only from the load balancer security group."
  }

  assert {
    condition     = one(aws_ecs_service.server.network_configuration).security_groups == toset([aws_security_group.tasks.id])
    error_message = "Tasks must run in the task security group."
  }

  assert {
    condition = alltrue(concat(
      [for r in aws_vpc_security_group_egress_rule.tasks_https : r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp"],
      [aws_vpc_security_group_egress_rule.tasks_to_s3.from_port == 443 && aws_vpc_security_group_egress_rule.tasks_to_s3.to_port == 443],
    ))
    error_message = "Task egress must be limited to HTTPS."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.tasks_to_s3.prefix_list_id == data.aws_prefix_list.s3.id
    error_message = "Tasks must be allowed to reach S3 through its prefix list."
  }
}

run "load_balancer_admits_only_allowed_cidrs" {
  command = plan

  variables {
    allowed_cidr_blocks = ["10.0.0.0/16", "192.168.10.0/24"]
  }

  assert {
    condition = toset([
      for r in aws_vpc_security_group_ingress_rule.lb_from_clients : "${r.cidr_ipv4}:${r.from_port}-${r.to_port}"
      ]) == toset([
      "10.0.0.0/16:8980-8980",
      "10.0.0.0/16:8080-8080",
      "192.168.10.0/24:8980-8980",
      "192.168.10.0/24:8080-8080",
    ])
    error_message = "The load balancer must admit exactly the two ports from exactly allowed_cidr_blocks."
  }
}

run "s3_gateway_endpoint_on_the_route_tables" {
  command = plan

  assert {
    condition = (
      aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" &&
      aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.eu-west-1.s3" &&
      toset(aws_vpc_endpoint.s3[0].route_table_ids) == toset(var.route_table_ids)
    )
    error_message = "An S3 gateway endpoint must be attached to route_table_ids."
  }
}

run "existing_s3_endpoint_can_be_kept" {
  command = plan

  variables {
    create_s3_gateway_endpoint = false
    route_table_ids            = []
  }

  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0
    error_message = "No endpoint may be created when create_s3_gateway_endpoint is false."
  }
}
