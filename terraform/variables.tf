# ---------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------

variable "region" {
  description = "AWS region to deploy into, e.g. \"eu-west-1\". The bucket, the cluster and the load balancer all live here, and the server is told this region through BS3_REGION."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must look like an AWS region name, e.g. \"us-east-1\" or \"eu-central-2\"."
  }
}

variable "name" {
  description = "Base name for every named resource (cluster, service, roles, load balancer, target groups, log group). Lowercase letters, digits and hyphens; at most 22 characters so that derived names stay within the 32-character load balancer limit."
  type        = string
  default     = "bytestream-s3"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name))
    error_message = "name must be 2-22 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource through the provider's default tags."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the S3 bucket to create. It holds every blob and action result the server stores; it is the only state of the deployment."
  type        = string

  validation {
    condition = (
      length(var.bucket_name) >= 3 &&
      length(var.bucket_name) <= 63 &&
      can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", var.bucket_name)) &&
      !strcontains(var.bucket_name, "..") &&
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.bucket_name))
    )
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no \"..\", not shaped like an IP address."
  }
}

variable "key_prefix" {
  description = "Key prefix under which the server keeps its objects (passed as BS3_PREFIX). Empty leaves BS3_PREFIX unset, so the server's default applies, and makes the optional expiration rule cover the whole bucket; otherwise that rule applies only below this prefix."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.key_prefix, "/") && length(var.key_prefix) <= 124
    error_message = "key_prefix must not start with \"/\" and must be at most 124 characters (object keys themselves may use up to 900 of S3's 1024 bytes)."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer-managed KMS key for default bucket encryption. Null (the default) uses S3-managed keys (SSE-S3, AES256). When set, the bucket uses aws:kms with this key and the task role is granted kms:Decrypt and kms:GenerateDataKey on it; the key policy must allow that role too."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN such as arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (aliases are not accepted)."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which S3 aborts multipart uploads that were started but never completed, and frees their parts. It must outlast the longest upload the server may be carrying out, including resumed ByteStream writes; a value that is too short aborts live uploads. Abandoned uploads are billed as stored data until they are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of at least 1."
  }
}

variable "cache_expiration_days" {
  description = "Optional age in days after which objects below key_prefix are deleted by S3. S3 counts from an object's last write, so the server is told the same age (BS3_EXPIRY_AGE_DAYS) and copies each blob still in use onto itself once it is half that old; blobs unused for the whole age expire. Null or 0 turns expiration off."
  type        = number
  default     = null

  validation {
    condition     = var.cache_expiration_days == null || try(var.cache_expiration_days >= 0 && floor(var.cache_expiration_days) == var.cache_expiration_days, false)
    error_message = "cache_expiration_days must be null, 0 (off) or a positive whole number of days."
  }
}

variable "force_destroy_bucket" {
  description = "Allow terraform destroy to delete the bucket while it still holds objects. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

variable "vpc_id" {
  description = "ID of the existing VPC to deploy into."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets for the server tasks, in at least two availability zones. Fargate spreads the service's tasks across these subnets."
  type        = list(string)

  validation {
    condition     = length(distinct(var.private_subnet_ids)) >= 2
    error_message = "private_subnet_ids must list at least two distinct subnets."
  }

  validation {
    condition     = alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Every entry of private_subnet_ids must be a subnet ID such as subnet-0123456789abcdef0."
  }
}

variable "lb_subnet_ids" {
  description = "Subnets for the network load balancer, one per availability zone and at least two. Use private subnets for an internal load balancer and public subnets when lb_internal is false."
  type        = list(string)

  validation {
    condition     = length(distinct(var.lb_subnet_ids)) >= 2
    error_message = "lb_subnet_ids must list at least two distinct subnets."
  }

  validation {
    condition     = alltrue([for s in var.lb_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Every entry of lb_subnet_ids must be a subnet ID such as subnet-0123456789abcdef0."
  }
}

variable "create_s3_gateway_endpoint" {
  description = "Create an S3 gateway VPC endpoint on route_table_ids so the tasks reach S3 without a NAT gateway. Set to false when the VPC already has one on those route tables (a route table can hold only one route to S3's prefix list)."
  type        = bool
  default     = true
}

variable "route_table_ids" {
  description = "Route tables of the private subnets, to which the S3 gateway endpoint is attached. Required when create_s3_gateway_endpoint is true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.route_table_ids : can(regex("^rtb-[0-9a-f]{8,17}$", r))])
    error_message = "Every entry of route_table_ids must be a route table ID such as rtb-0123456789abcdef0."
  }
}

variable "allowed_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach the gRPC and HTTP listeners of the load balancer, e.g. the VPC CIDR or the ranges of CI runners and developer networks."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidr_blocks) >= 1
    error_message = "allowed_cidr_blocks must list at least one CIDR block."
  }

  validation {
    condition     = alltrue([for c in var.allowed_cidr_blocks : can(cidrnetmask(c))])
    error_message = "Every entry of allowed_cidr_blocks must be an IPv4 CIDR block such as 10.0.0.0/16."
  }
}

variable "task_https_egress_cidr_blocks" {
  description = "IPv4 CIDR blocks the tasks may reach on port 443 besides S3 (which is always allowed through its prefix list): ECR and CloudWatch Logs. Keep 0.0.0.0/0 when those are reached through a NAT gateway; narrow it to the VPC CIDR when the VPC has interface endpoints for ecr.api, ecr.dkr and logs."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.task_https_egress_cidr_blocks : can(cidrnetmask(c))])
    error_message = "Every entry of task_https_egress_cidr_blocks must be an IPv4 CIDR block."
  }
}

# ---------------------------------------------------------------------------
# Server tasks
# ---------------------------------------------------------------------------

variable "container_image" {
  description = "Container image of the server, ideally pinned by digest (repository@sha256:...). Build it with Jib from the repository root: ./mvnw -pl service -am package jib:build -DskipTests -Dimage=<repository>:<tag> (docs/deploy.md)."
  type        = string

  validation {
    condition     = length(trimspace(var.container_image)) > 0 && !can(regex("\\s", var.container_image))
    error_message = "container_image must be a non-empty image reference without whitespace."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture the image is built for: X86_64 or ARM64 (Graviton)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "cpu" {
  description = "Fargate task CPU units (1024 = one vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of the Fargate sizes 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB. It must be a combination Fargate accepts for the chosen cpu (for 1024 CPU units: 2048-8192 in steps of 1024)."
  type        = number
  default     = 2048

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && floor(var.memory) == var.memory
    error_message = "memory must be a whole number of MiB between 512 and 122880."
  }
}

variable "cache_size_gib" {
  description = "Size in GiB of each task's local disk tier in front of S3 (BS3_CACHE_MAX_BYTES), kept on the task's ephemeral storage at /var/cache/bytestream-s3 (BS3_CACHE_DIR). CAS blobs a task reads or writes are kept there and served from disk; a new task starts with an empty tier. The task's ephemeral storage is this plus 10 GiB for the image and logs, at least Fargate's 21 GiB. 0 turns the tier off."
  type        = number
  default     = 20

  validation {
    condition     = var.cache_size_gib >= 0 && var.cache_size_gib <= 190 && floor(var.cache_size_gib) == var.cache_size_gib
    error_message = "cache_size_gib must be a whole number of GiB from 0 to 190 (Fargate's ephemeral storage ends at 200 GiB, 10 of which are kept for the image and logs)."
  }
}

variable "grpc_port" {
  description = "Port the server serves gRPC on inside the task (BS3_GRPC_PORT); the load balancer listens on the same port."
  type        = number
  default     = 8980

  validation {
    condition     = var.grpc_port >= 1 && var.grpc_port <= 65535 && floor(var.grpc_port) == var.grpc_port
    error_message = "grpc_port must be a whole number between 1 and 65535."
  }
}

variable "http_port" {
  description = "Port the server serves HTTP (health endpoints /healthz and /readyz) on inside the task (BS3_HTTP_PORT); the load balancer listens on the same port."
  type        = number
  default     = 8080

  validation {
    condition     = var.http_port >= 1 && var.http_port <= 65535 && floor(var.http_port) == var.http_port
    error_message = "http_port must be a whole number between 1 and 65535."
  }
}

variable "shutdown_grace_seconds" {
  description = "Seconds the server is given to finish in-flight calls when it stops (BS3_SHUTDOWN_GRACE_SECONDS). The load balancer drains a stopping task for the same time, and ECS waits this long plus a margin before killing the container. At most 105 so the margin fits under the 120-second Fargate stop limit."
  type        = number
  default     = 30

  validation {
    condition     = var.shutdown_grace_seconds >= 0 && var.shutdown_grace_seconds <= 105 && floor(var.shutdown_grace_seconds) == var.shutdown_grace_seconds
    error_message = "shutdown_grace_seconds must be a whole number between 0 and 105."
  }
}

variable "health_check_start_period_seconds" {
  description = "Seconds after start during which failed health checks do not count, both for the container health check and for the load balancer health checks seen by ECS. Covers JVM start-up."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_start_period_seconds >= 0 && var.health_check_start_period_seconds <= 300 && floor(var.health_check_start_period_seconds) == var.health_check_start_period_seconds
    error_message = "health_check_start_period_seconds must be a whole number between 0 and 300."
  }
}

variable "container_health_check_command" {
  description = "Command of the container health check, in ECS form (\"CMD\" or \"CMD-SHELL\" first). Null uses curl against http://127.0.0.1:<http_port>/healthz, which needs curl in the image; set this when the image ships another probe."
  type        = list(string)
  default     = null

  validation {
    condition     = var.container_health_check_command == null || try(length(var.container_health_check_command) >= 2 && contains(["CMD", "CMD-SHELL"], var.container_health_check_command[0]), false)
    error_message = "container_health_check_command must be null or a list starting with \"CMD\" or \"CMD-SHELL\" followed by the command."
  }
}

variable "extra_environment" {
  description = "Additional non-secret environment variables for the server container. The BS3_* variables this configuration sets itself cannot be overridden here. Entries with an empty value are left out, as ECS would drop them."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.extra_environment), [
      "BS3_BUCKET", "BS3_PREFIX", "BS3_REGION", "BS3_GRPC_PORT", "BS3_HTTP_PORT", "BS3_SHUTDOWN_GRACE_SECONDS",
      "BS3_EXPIRY_AGE_DAYS", "BS3_CACHE_DIR", "BS3_CACHE_MAX_BYTES",
    ])) == 0
    error_message = "extra_environment must not set BS3_BUCKET, BS3_PREFIX, BS3_REGION, BS3_GRPC_PORT, BS3_HTTP_PORT, BS3_SHUTDOWN_GRACE_SECONDS, BS3_EXPIRY_AGE_DAYS, BS3_CACHE_DIR or BS3_CACHE_MAX_BYTES; they come from other variables."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the server's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "container_insights" {
  description = "Enable CloudWatch Container Insights on the cluster (billed separately)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# Capacity
# ---------------------------------------------------------------------------

variable "desired_count" {
  description = "Number of server tasks to start with; also the autoscaling minimum. At least 2 so that one task can stop (deployment, AZ failure) while another keeps serving."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 2 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number of at least 2."
  }
}

variable "max_count" {
  description = "Upper bound for autoscaling. Must not be below desired_count."
  type        = number
  default     = 8

  validation {
    condition     = var.max_count >= 2 && var.max_count <= 1000 && floor(var.max_count) == var.max_count
    error_message = "max_count must be a whole number between 2 and 1000."
  }
}

variable "cpu_target_percent" {
  description = "Average service CPU utilisation that autoscaling keeps the service at."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "memory_target_percent" {
  description = "Average service memory utilisation that autoscaling keeps the service at. Null (the default) scales on CPU only."
  type        = number
  default     = null

  validation {
    condition     = var.memory_target_percent == null || try(var.memory_target_percent >= 10 && var.memory_target_percent <= 90, false)
    error_message = "memory_target_percent must be null or between 10 and 90."
  }
}

# ---------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------

variable "lb_internal" {
  description = "Make the network load balancer internal (reachable only from the VPC and connected networks). Set to false for an internet-facing load balancer in public subnets."
  type        = bool
  default     = true
}

variable "certificate_arn" {
  description = "ARN of an ACM certificate. Null (the default) makes both listeners plain TCP; when set, both listeners terminate TLS with this certificate and clients use grpcs://."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN such as arn:aws:acm:eu-west-1:111122223333:certificate/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "tls_policy" {
  description = "ELB security policy of the TLS listeners; used only when certificate_arn is set."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.tls_policy, "ELBSecurityPolicy-")
    error_message = "tls_policy must name an ELB security policy (ELBSecurityPolicy-...)."
  }
}

variable "tcp_idle_timeout_seconds" {
  description = "Seconds a connection through the load balancer may stay silent before it is dropped. Large blob uploads and downloads, and idle gRPC channels between builds, need more than the 350-second default. Applies to TCP listeners; AWS fixes TLS listeners at 350 seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.tcp_idle_timeout_seconds >= 60 && var.tcp_idle_timeout_seconds <= 6000 && floor(var.tcp_idle_timeout_seconds) == var.tcp_idle_timeout_seconds
    error_message = "tcp_idle_timeout_seconds must be a whole number between 60 and 6000."
  }
}

variable "endpoint_hostname" {
  description = "Hostname clients use to reach the load balancer, e.g. a Route 53 alias record you manage that the TLS certificate covers. Only shapes the endpoint outputs; null uses the load balancer's own DNS name, which an ACM certificate for your domain does not cover."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint_hostname == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.endpoint_hostname))
    error_message = "endpoint_hostname must be null or a lowercase DNS name such as cache.example.com."
  }
}
