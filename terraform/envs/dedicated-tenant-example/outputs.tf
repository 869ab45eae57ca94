output "cluster_name" {
  description = "Name of the tenant's EKS cluster."
  value       = module.tenant.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the tenant's Kubernetes API server."
  value       = module.tenant.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the cluster's API server (the provisioning run's kubeconfig)."
  value       = module.tenant.cluster_certificate_authority_data
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

output "app_secret_name" {
  description = "Name of the app's Secrets Manager secret (`lb-<slug>/app`, the ExternalSecret's dataFrom key)."
  value       = module.tenant.app_secret_name
}

output "app_secret_arn" {
  description = "ARN of the app's Secrets Manager secret (SECRET_KEY, MARKETPLACE_PUBLISHING_TOKEN)."
  value       = module.tenant.app_secret_arn
}

output "media_bucket_name" {
  description = "Name of the tenant's media bucket."
  value       = module.tenant.media_bucket_name
}

output "irsa_role_arn" {
  description = "IAM role for the app's service account."
  value       = module.tenant.irsa_role_arn
}

output "load_balancer_controller_role_arn" {
  description = "IAM role for the AWS Load Balancer Controller's service account."
  value       = module.tenant.load_balancer_controller_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IAM role for the cluster autoscaler's service account."
  value       = module.tenant.cluster_autoscaler_role_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the tenant's alarms."
  value       = module.tenant.alarm_topic_arn
}

output "vpc_id" {
  description = "ID of the tenant's VPC (the load balancer controller's --aws-vpc-id)."
  value       = module.tenant.vpc_id
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of the tenant's Redis (TLS)."
  value       = module.tenant.redis_primary_endpoint
}

output "redis_secret_arn" {
  description = "ARN of the Secrets Manager secret with Redis's AUTH token and URL."
  value       = module.tenant.redis_secret_arn
}

output "image_repository_url" {
  description = "Registry/repository of the app's image."
  value       = module.tenant.image_repository_url
}

output "certificate_arn" {
  description = "ACM certificate of the store's host names (null without hostnames)."
  value       = module.tenant.certificate_arn
}
