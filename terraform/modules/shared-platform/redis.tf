# Redis for the cache, routing cache and Celery broker (modules/redis): Multi-AZ with automatic
# failover, encrypted at rest (KMS) and in transit (TLS required), AUTH token in Secrets Manager.

module "redis" {
  source = "../redis"

  name                       = var.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = var.redis_engine_version
  node_type                  = var.redis_node_type
  node_count                 = var.redis_node_count
  kms_key_arn                = module.kms["data"].key_arn
  logs_kms_key_arn           = module.kms["observability"].key_arn
  log_retention_days         = var.log_retention_days
  alarm_topic_arn            = aws_sns_topic.alarms.arn
  tags                       = local.tags
}

# These resources lived in this module before modules/redis existed: the moves keep them in state.
moved {
  from = random_password.redis_auth
  to   = module.redis.random_password.auth
}

moved {
  from = aws_secretsmanager_secret.redis
  to   = module.redis.aws_secretsmanager_secret.this
}

moved {
  from = aws_secretsmanager_secret_version.redis
  to   = module.redis.aws_secretsmanager_secret_version.this
}

moved {
  from = aws_elasticache_subnet_group.this
  to   = module.redis.aws_elasticache_subnet_group.this
}

moved {
  from = aws_security_group.redis
  to   = module.redis.aws_security_group.this
}

moved {
  from = aws_cloudwatch_log_group.redis
  to   = module.redis.aws_cloudwatch_log_group.this
}

moved {
  from = aws_elasticache_replication_group.this
  to   = module.redis.aws_elasticache_replication_group.this
}

moved {
  from = aws_cloudwatch_metric_alarm.redis_cpu
  to   = module.redis.aws_cloudwatch_metric_alarm.cpu
}

moved {
  from = aws_cloudwatch_metric_alarm.redis_memory
  to   = module.redis.aws_cloudwatch_metric_alarm.memory
}
