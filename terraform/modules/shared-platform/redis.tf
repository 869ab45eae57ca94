# Redis for the cache, routing cache and Celery broker: Multi-AZ with automatic failover, encrypted
# at rest (KMS) and in transit (TLS required), AUTH token kept in Secrets Manager.

resource "random_password" "redis_auth" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "redis" {
  #checkov:skip=CKV2_AWS_57:ElastiCache AUTH rotation is a two-step ROTATE/SET change on the replication group, run as an operations task (README), not by a rotation Lambda.
  name                    = "${var.name}/redis"
  description             = "AUTH token and TLS URL of ${var.name}'s Redis"
  kms_key_id              = module.kms["data"].key_arn
  recovery_window_in_days = 30
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "redis" {
  secret_id = aws_secretsmanager_secret.redis.id
  secret_string = jsonencode({
    auth_token = random_password.redis_auth.result
    host       = aws_elasticache_replication_group.this.primary_endpoint_address
    port       = 6379
    url        = "rediss://:${random_password.redis_auth.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
  })
}

resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name}-redis"
  description = "Private subnets of ${var.name}'s Redis"
  subnet_ids  = module.network.private_subnet_ids
  tags        = local.tags
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis of ${var.name}: reachable only from the EKS cluster"
  vpc_id      = module.network.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-redis" })

  ingress {
    description     = "Redis over TLS from the cluster's nodes"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [module.eks.cluster_security_group_id]
  }
}

resource "aws_cloudwatch_log_group" "redis" {
  for_each = toset(["slow-log", "engine-log"])

  name              = "/aws/elasticache/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms["observability"].key_arn
  tags              = local.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = "${var.name}-redis"
  description          = "Cache and Celery broker of ${var.name}"
  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_node_count
  port                 = 6379
  parameter_group_name = "default.redis${split(".", var.redis_engine_version)[0]}"

  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.redis.id]
  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = module.kms["data"].key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.redis_auth.result
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = 7
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  dynamic "log_delivery_configuration" {
    for_each = aws_cloudwatch_log_group.redis

    content {
      destination      = log_delivery_configuration.value.name
      destination_type = "cloudwatch-logs"
      log_format       = "json"
      log_type         = log_delivery_configuration.key
    }
  }

  tags = local.tags
}

locals {
  # ElastiCache names a replication group's nodes <group>-001, <group>-002, ...
  redis_node_ids = [for i in range(var.redis_node_count) : format("%s-%03d", aws_elasticache_replication_group.this.replication_group_id, i + 1)]
}

resource "aws_cloudwatch_metric_alarm" "redis_cpu" {
  count = var.redis_node_count

  alarm_name          = "${local.redis_node_ids[count.index]}-engine-cpu-high"
  alarm_description   = "Redis engine CPU of ${local.redis_node_ids[count.index]} above 80% for 15 minutes."
  namespace           = "AWS/ElastiCache"
  metric_name         = "EngineCPUUtilization"
  dimensions          = { CacheClusterId = local.redis_node_ids[count.index] }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  count = var.redis_node_count

  alarm_name          = "${local.redis_node_ids[count.index]}-memory-high"
  alarm_description   = "Redis memory of ${local.redis_node_ids[count.index]} above 80% for 10 minutes (evictions next)."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = local.redis_node_ids[count.index] }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}
