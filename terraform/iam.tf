locals {
  # The task role may be assumed only on behalf of ECS tasks of this account
  # in this region (guards against a confused deputy).
  task_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:*" }
        }
      },
    ]
  })

  # The execution role keeps the plain trust policy ECS documents for it.
  execution_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  # Every S3 action the server calls, and nothing else. HeadObject is
  # authorised by s3:GetObject; CreateMultipartUpload, UploadPart and
  # CompleteMultipartUpload by s3:PutObject; ListParts by
  # s3:ListMultipartUploadParts.
  task_bucket_actions = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
  task_object_actions = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
  ]

  task_policy_statements = concat(
    [
      {
        Sid      = "BucketLevel"
        Effect   = "Allow"
        Action   = local.task_bucket_actions
        Resource = local.bucket_arn
      },
      {
        Sid      = "ObjectLevel"
        Effect   = "Allow"
        Action   = local.task_object_actions
        Resource = "${local.bucket_arn}/*"
      },
    ],
    local.kms_enabled ? [
      {
        Sid      = "BucketKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
      },
    ] : [],
  )
}

# Role the server process runs as: access to its bucket only.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "Role of the ${var.name} server tasks: read and write its cache bucket."
  assume_role_policy = local.task_assume_role_policy
}

resource "aws_iam_role_policy" "task_bucket" {
  name = "cache-bucket"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.task_policy_statements
  })
}

# Role ECS itself uses to pull the image and write logs.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "Role ECS uses to start ${var.name} tasks: pull the image and ship logs."
  assume_role_policy = local.execution_assume_role_policy
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}
