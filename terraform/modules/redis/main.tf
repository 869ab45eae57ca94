# Redis for the cache, routing cache and Celery broker: an ElastiCache replication group across zones
# with automatic failover, encrypted at rest (KMS) and in transit (TLS required), reachable only from
# the given security groups, its AUTH token generated here and kept in Secrets Manager.

locals {
  # Replication group IDs stop at 40 characters: a long name keeps its head and a hash of the whole.
  short_name           = "${trimsuffix(substr(var.name, 0, 27), "-")}-${substr(sha256(var.name), 0, 6)}"
  replication_group_id = length(var.name) <= 34 ? "${var.name}-redis" : "${local.short_name}-redis"
  port                 = 6379
  log_types            = ["slow-log", "engine-log"]
}

resource "random_password" "auth" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:ElastiCache AUTH rotation is a two-step ROTATE/SET change on the replication group, run as an operations task (README), not by a rotation Lambda.
  name                    = "${var.name}/redis"
  description             = "AUTH token and TLS URL of ${var.name}'s Redis"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id = aws_secretsmanager_secret.this.id
  secret_string = jsonencode({
    auth_token = random_password.auth.result
    host       = aws_elasticache_replication_group.this.primary_endpoint_address
    port       = local.port
    url        = "rediss://:${random_password.auth.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:${local.port}/0"
  })
}

resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name}-redis"
  description = "Private subnets of ${var.name}'s Redis"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis of ${var.name}: reachable only from the EKS cluster"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis" })

  ingress {
    description     = "Redis over TLS from the cluster nodes"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = var.allowed_security_group_ids
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(local.log_types)

  name              = "/aws/elasticache/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.replication_group_id
  description          = "Cache and Celery broker of ${var.name}"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.node_count
  port                 = local.port
  parameter_group_name = "default.redis${split(".", var.engine_version)[0]}"

  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth.result
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = var.snapshot_window
  maintenance_window         = var.maintenance_window
  auto_minor_version_upgrade = true
  apply_immediately          = false

  dynamic "log_delivery_configuration" {
    for_each = aws_cloudwatch_log_group.this

    content {
      destination      = log_delivery_configuration.value.name
      destination_type = "cloudwatch-logs"
      log_format       = "json"
      log_type         = log_delivery_configuration.key
    }
  }

  tags = var.tags
}

locals {
  # ElastiCache names a replication group's nodes <group>-001, <group>-002, ...
  node_ids = [for i in range(var.node_count) : format("%s-%03d", aws_elasticache_replication_group.this.replication_group_id, i + 1)]
}

resource "aws_cloudwatch_metric_alarm" "cpu" {
  count = var.node_count

  alarm_name          = "${local.node_ids[count.index]}-engine-cpu-high"
  alarm_description   = "Redis engine CPU of ${local.node_ids[count.index]} above 80% for 15 minutes."
  namespace           = "AWS/ElastiCache"
  metric_name         = "EngineCPUUtilization"
  dimensions          = { CacheClusterId = local.node_ids[count.index] }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "memory" {
  count = var.node_count

  alarm_name          = "${local.node_ids[count.index]}-memory-high"
  alarm_description   = "Redis memory of ${local.node_ids[count.index]} above 80% for 10 minutes (evictions next)."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = local.node_ids[count.index] }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
