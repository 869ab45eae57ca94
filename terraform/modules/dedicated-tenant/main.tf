# One dedicated tenant's stack in its own VPC: EKS for the app, Multi-AZ PostgreSQL, Redis, a media
# bucket, KMS keys per purpose, IRSA roles for the app and the load balancer controller, the image
# registry (registry.tf), the store's certificate and DNS (dns.tf), the app's own secret (app-secret.tf),
# and alarms to an SNS topic. Applied once per tenant by the `terraform` provisioning backend, with the
# state at tenants/<slug>/terraform.tfstate.

data "aws_caller_identity" "current" {}

locals {
  name       = "lb-${var.tenant_slug}"
  account_id = data.aws_caller_identity.current.account_id
  tags = merge(var.tags, {
    "localbazaar:tenant"  = var.tenant_slug
    "localbazaar:tenancy" = "dedicated"
  })

  # One key per purpose, so a grant on one (the app's on media) opens nothing else; the registry's
  # only while the stack keeps its own image repository.
  keys = merge(
    {
      eks           = { description = "Kubernetes secrets of ${local.name}", logs = false, services = [] }
      data          = { description = "Database and cache storage, Performance Insights and secrets of ${local.name}", logs = false, services = [] }
      media         = { description = "Media bucket of ${local.name}", logs = false, services = [] }
      observability = { description = "Log groups and the alarm topic of ${local.name}", logs = true, services = ["cloudwatch.amazonaws.com"] }
    },
    local.own_registry ? { registry = { description = "Container images of ${local.name}", logs = false, services = [] } } : {},
  )
}

module "kms" {
  source   = "../kms-key"
  for_each = local.keys

  alias                 = "${local.name}/${each.key}"
  description           = each.value.description
  allow_cloudwatch_logs = each.value.logs
  service_principals    = each.value.services
  tags                  = local.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
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

  name                    = local.name
  vpc_cidr                = var.vpc_cidr
  availability_zones      = var.availability_zones
  single_nat_gateway      = var.single_nat_gateway
  flow_log_retention_days = var.log_retention_days
  logs_kms_key_arn        = module.kms["observability"].key_arn
  private_subnet_tags     = { "kubernetes.io/cluster/${local.name}" = "owned" }
  public_subnet_tags      = { "kubernetes.io/cluster/${local.name}" = "owned" }
  tags                    = local.tags
}

module "eks" {
  source = "../eks-cluster"

  name                         = local.name
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

  identifier                 = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = var.db_engine_version
  instance_class             = var.db_instance_class
  allocated_storage_gb       = var.db_allocated_storage_gb
  max_allocated_storage_gb   = var.db_max_allocated_storage_gb
  multi_az                   = true
  backup_retention_days      = var.db_backup_retention_days
  kms_key_arn                = module.kms["data"].key_arn
  logs_kms_key_arn           = module.kms["observability"].key_arn
  log_retention_days         = var.log_retention_days
  alarm_topic_arn            = aws_sns_topic.alarms.arn
  connections_alarm_count    = var.db_connections_alarm_count
  tags                       = local.tags

  # A conditional rather than !var.allow_destroy: checkov evaluates the one, not the other.
  deletion_protection = var.allow_destroy ? false : true
}

module "redis" {
  source = "../redis"

  name                       = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = var.redis_engine_version
  node_type                  = var.redis_node_type
  node_count                 = 2
  snapshot_retention_days    = var.redis_snapshot_retention_days
  kms_key_arn                = module.kms["data"].key_arn
  logs_kms_key_arn           = module.kms["observability"].key_arn
  log_retention_days         = var.log_retention_days
  alarm_topic_arn            = aws_sns_topic.alarms.arn
  tags                       = local.tags
}

module "access_logs" {
  source = "../log-bucket"

  bucket_name    = "${local.name}-logs-${local.account_id}"
  retention_days = var.log_retention_days
  tags           = local.tags
}

module "media" {
  source = "../media-bucket"

  bucket_name                       = "${local.name}-media-${local.account_id}"
  kms_key_arn                       = module.kms["media"].key_arn
  access_log_bucket_name            = module.access_logs.bucket_name
  noncurrent_version_retention_days = var.media_noncurrent_version_retention_days
  force_destroy                     = var.allow_destroy
  tags                              = local.tags
}

module "app_role" {
  source = "../app-service-role"

  role_name            = "${local.name}-app"
  oidc_provider_arn    = module.eks.oidc_provider_arn
  oidc_issuer          = module.eks.oidc_issuer
  namespace            = var.app_namespace
  service_account      = var.app_service_account
  media_bucket_arn     = module.media.bucket_arn
  media_kms_key_arn    = module.kms["media"].key_arn
  secret_arns          = [module.database.master_user_secret_arn, module.redis.secret_arn, aws_secretsmanager_secret.app.arn]
  secrets_kms_key_arns = [module.kms["data"].key_arn]
  tags                 = local.tags
}
