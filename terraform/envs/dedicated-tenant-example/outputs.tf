output "cluster_name" {
  description = "Name of the tenant's EKS cluster."
  value       = module.tenant.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the tenant's Kubernetes API server."
  value       = module.tenant.cluster_endpoint
}

output "database_endpoint" {
  description = "Endpoint (host:port) of the tenant's PostgreSQL."
  value       = module.tenant.database_endpoint
}

output "database_name" {
  description = "Name of the tenant's application database."
  value       = module.tenant.database_name
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials (never the password)."
  value       = module.tenant.database_secret_arn
}

output "media_bucket_name" {
  description = "Name of the tenant's media bucket."
  value       = module.tenant.media_bucket_name
}

output "irsa_role_arn" {
  description = "IAM role for the app's service account."
  value       = module.tenant.irsa_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IAM role for the cluster autoscaler's service account."
  value       = module.tenant.cluster_autoscaler_role_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the tenant's alarms."
  value       = module.tenant.alarm_topic_arn
}
