locals {
  endpoint_scheme = local.tls_enabled ? "grpcs" : "grpc"
  http_scheme     = local.tls_enabled ? "https" : "http"
  endpoint_host   = coalesce(var.endpoint_hostname, aws_lb.this.dns_name)
}

output "grpc_endpoint" {
  description = "Address for Bazel's --remote_cache (and any other REAPI or ByteStream client)."
  value       = "${local.endpoint_scheme}://${local.endpoint_host}:${var.grpc_port}"
}

output "http_endpoint" {
  description = "Base URL of the server's HTTP port; /healthz and /readyz live here."
  value       = "${local.http_scheme}://${local.endpoint_host}:${var.http_port}"
}

output "lb_dns_name" {
  description = "DNS name of the network load balancer, the target for an alias or CNAME record."
  value       = aws_lb.this.dns_name
}

output "lb_zone_id" {
  description = "Route 53 hosted zone ID of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "bucket_name" {
  description = "Name of the bucket that holds the cache."
  value       = aws_s3_bucket.cache.bucket
}

output "bucket_arn" {
  description = "ARN of the bucket that holds the cache."
  value       = aws_s3_bucket.cache.arn
}

output "log_group_name" {
  description = "CloudWatch Logs group receiving the server's output."
  value       = aws_cloudwatch_log_group.server.name
}

output "cluster_name" {
  description = "Name of the ECS cluster running the service."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.server.name
}

output "tasks_security_group_id" {
  description = "Security group of the server tasks: allow your Prometheus in on http_port to scrape /metrics."
  value       = aws_security_group.tasks.id
}
