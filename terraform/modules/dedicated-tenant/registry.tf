# The app's image registry: the repository given in image_repository (e.g. the platform's own, shared by
# every tenant), or else an ECR repository of this stack's own. The nodes pull with their role's
# AmazonEC2ContainerRegistryPullOnly policy; a repository in another account must allow them itself.

locals {
  own_registry = var.image_repository == ""
}

resource "aws_ecr_repository" "app" {
  count = local.own_registry ? 1 : 0

  name                 = "${local.name}/localbazaar"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.allow_destroy

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.kms["registry"].key_arn
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "app" {
  count = local.own_registry ? 1 : 0

  repository = aws_ecr_repository.app[0].name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the ${var.image_retention_count} most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.image_retention_count
      }
      action = { type = "expire" }
    }]
  })
}
