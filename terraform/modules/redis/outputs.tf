output "primary_endpoint" {
  description = "Primary endpoint of Redis (TLS on 6379; use rediss://)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Port of Redis."
  value       = local.port
}

output "secret_arn" {
  description = "ARN of the Secrets Manager secret with the AUTH token, host, port and URL (never the token itself)."
  value       = aws_secretsmanager_secret.this.arn
}

output "replication_group_id" {
  description = "ID of the ElastiCache replication group."
  value       = aws_elasticache_replication_group.this.replication_group_id
}

output "security_group_id" {
  description = "Security group of Redis."
  value       = aws_security_group.this.id
}
