# The shared platform (control plane, marketplace and every shared-tenancy store): VPC, EKS,
# Multi-AZ PostgreSQL, Redis, the media bucket, and CloudFront with WAF in front (cdn.tf, redis.tf).

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  tags = merge(var.tags, {
    "localbazaar:tenancy" = "shared"
  })

  keys = {
    eks           = { description = "Kubernetes secrets of ${var.name}", logs = false, services = [] }
    data          = { description = "Database and cache storage, Performance Insights and secrets of ${var.name}", logs = false, services = [] }
    media         = { description = "Media bucket of ${var.name} (CloudFront reads through OAC)", logs = false, services = ["cloudfront.amazonaws.com"] }
    observability = { description = "Log groups and the alarm topic of ${var.name}", logs = true, services = ["cloudwatch.amazonaws.com"] }
  }
}

module "kms" {
  source   = "../kms-key"
  for_each = local.keys

  alias                 = "${var.name}/${each.key}"
  description           = each.value.description
  allow_cloudwatch_logs = each.value.logs
  service_principals    = each.value.services
  tags                  = local.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = module.kms["observability"].key_arn
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

module "network" {
  source = "../network"

  name                    = var.name
  vpc_cidr                = var.vpc_cidr
  availability_zones      = var.availability_zones
  single_nat_gateway      = false
  flow_log_retention_days = var.log_retention_days
  logs_kms_key_arn        = module.kms["observability"].key_arn
  private_subnet_tags     = { "kubernetes.io/cluster/${var.name}" = "owned" }
  public_subnet_tags      = { "kubernetes.io/cluster/${var.name}" = "owned" }
  tags                    = local.tags
}

module "eks" {
  source = "../eks-cluster"

  name                         = var.name
  kubernetes_version           = var.kubernetes_version
  subnet_ids                   = module.network.private_subnet_ids
  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  admin_role_arns              = var.cluster_admin_role_arns
  secrets_kms_key_arn          = module.kms["eks"].key_arn
  logs_kms_key_arn             = module.kms["observability"].key_arn
  log_retention_days           = var.log_retention_days
  node_instance_types          = var.node_instance_types
  node_ami_type                = var.node_ami_type
  node_disk_size_gb            = var.node_disk_size_gb
  node_min_count               = var.node_min_count
  node_max_count               = var.node_max_count
  node_desired_count           = var.node_desired_count
  alarm_topic_arn              = aws_sns_topic.alarms.arn
  tags                         = local.tags
}

module "database" {
  source = "../postgres"

  identifier                 = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = var.db_engine_version
  instance_class             = var.db_instance_class
  allocated_storage_gb       = var.db_allocated_storage_gb
  max_allocated_storage_gb   = var.db_max_allocated_storage_gb
  multi_az                   = true
  backup_retention_days      = var.db_backup_retention_days
  deletion_protection        = true
  kms_key_arn                = module.kms["data"].key_arn
  logs_kms_key_arn           = module.kms["observability"].key_arn
  log_retention_days         = var.log_retention_days
  alarm_topic_arn            = aws_sns_topic.alarms.arn
  connections_alarm_count    = var.db_connections_alarm_count
  tags                       = local.tags
}

module "access_logs" {
  source = "../log-bucket"

  bucket_name            = "${var.name}-logs-${local.account_id}"
  retention_days         = var.log_retention_days
  accept_cloudfront_logs = true
  tags                   = local.tags
}

module "media" {
  source = "../media-bucket"

  bucket_name                       = "${var.name}-media-${local.account_id}"
  kms_key_arn                       = module.kms["media"].key_arn
  access_log_bucket_name            = module.access_logs.bucket_name
  noncurrent_version_retention_days = var.media_noncurrent_version_retention_days
  cloudfront_distribution_arns      = [aws_cloudfront_distribution.this.arn]
  tags                              = local.tags
}

module "app_role" {
  source = "../app-service-role"

  role_name            = "${var.name}-app"
  oidc_provider_arn    = module.eks.oidc_provider_arn
  oidc_issuer          = module.eks.oidc_issuer
  namespace            = var.app_namespace
  service_account      = var.app_service_account
  media_bucket_arn     = module.media.bucket_arn
  media_kms_key_arn    = module.kms["media"].key_arn
  secret_arns          = [module.database.master_user_secret_arn, module.redis.secret_arn]
  secrets_kms_key_arns = [module.kms["data"].key_arn]
  tags                 = local.tags
}
