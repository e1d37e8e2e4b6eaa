# The server roles: least-privilege S3 access, KMS only when a key is used.

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

run "task_role_has_exactly_the_server_s3_actions" {
  command = plan

  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement : s.Action
      ])) == toset([
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:ListBucket",
      "s3:ListMultipartUploadParts",
      "s3:ListBucketMultipartUploads",
      "s3:AbortMultipartUpload",
    ])
    error_message = "The task role must grant exactly the S3 actions the server uses."
  }

  assert {
    condition = {
      for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement : s.Resource => toset(s.Action)
      } == {
      "arn:aws:s3:::example-bs3-cache" = toset(["s3:ListBucket", "s3:ListBucketMultipartUploads"])
      "arn:aws:s3:::example-bs3-cache/*" = toset([
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
      ])
    }
    error_message = "Bucket actions must target the bucket ARN and object actions the bucket's objects, nothing else."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement : s.Effect == "Allow" && !contains(keys(s), "Condition")
    ])
    error_message = "The task policy is expected to consist of plain Allow statements."
  }
}

run "no_wildcard_actions_in_any_role_policy" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = alltrue(flatten([
      for doc in [
        aws_iam_role_policy.task_bucket.policy,
        aws_iam_role.task.assume_role_policy,
        aws_iam_role.execution.assume_role_policy,
        ] : [
        for s in jsondecode(doc).Statement : [
          for a in flatten([s.Action]) : a != "s3:*" && !strcontains(a, "*")
        ]
      ]
    ]))
    error_message = "No IAM statement may use s3:* or any wildcard action."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement :
      alltrue([for r in flatten([s.Resource]) : r != "*" && !startswith(r, "arn:aws:s3:::*")])
    ])
    error_message = "Task policy resources must name this bucket or key, never a wildcard."
  }
}

run "no_kms_permissions_without_a_key" {
  command = plan

  assert {
    condition = length([
      for a in flatten([for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement : s.Action]) : a
      if startswith(a, "kms:")
    ]) == 0
    error_message = "The task role must not get KMS permissions when the bucket uses SSE-S3."
  }
}

run "kms_permissions_with_a_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_role_policy.task_bucket.policy).Statement : {
        actions  = toset(s.Action)
        resource = s.Resource
      }
      if anytrue([for a in s.Action : startswith(a, "kms:")])
      ] == [{
        actions  = toset(["kms:Decrypt", "kms:GenerateDataKey"])
        resource = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }]
    error_message = "With a KMS key the task role must get kms:Decrypt and kms:GenerateDataKey on that key only."
  }
}

run "roles_are_assumed_by_ecs_tasks" {
  command = plan

  assert {
    condition = alltrue([
      for doc in [aws_iam_role.task.assume_role_policy, aws_iam_role.execution.assume_role_policy] :
      jsondecode(doc).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    ])
    error_message = "Both roles must trust ecs-tasks.amazonaws.com."
  }

  assert {
    condition     = jsondecode(aws_iam_role.task.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "The task role must only be assumable for tasks of this account."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.execution.policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    error_message = "The execution role must carry AmazonECSTaskExecutionRolePolicy."
  }
}
