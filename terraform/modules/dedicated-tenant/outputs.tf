output "cluster_name" {
  description = "Name of the tenant's EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the tenant's Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API server, for kubeconfig."
  value       = module.eks.cluster_certificate_authority_data
}

output "database_endpoint" {
  description = "Endpoint (host:port) of the tenant's PostgreSQL."
  value       = module.database.endpoint
}

output "database_name" {
  description = "Name of the tenant's application database."
  value       = module.database.database_name
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials; the password itself is never an output."
  value       = module.database.master_user_secret_arn
}

output "app_secret_name" {
  description = "Name of the app's Secrets Manager secret, `lb-<slug>/app` (the ExternalSecret's dataFrom key); its values are never an output."
  value       = aws_secretsmanager_secret.app.name
}

output "app_secret_arn" {
  description = "ARN of the app's Secrets Manager secret with SECRET_KEY and MARKETPLACE_PUBLISHING_TOKEN."
  value       = aws_secretsmanager_secret.app.arn
}

output "media_bucket_name" {
  description = "Name of the tenant's media bucket."
  value       = module.media.bucket_name
}

output "irsa_role_arn" {
  description = "IAM role for the app's service account (annotation `eks.amazonaws.com/role-arn`)."
  value       = module.app_role.role_arn
}

output "load_balancer_controller_role_arn" {
  description = "IAM role for the AWS Load Balancer Controller's service account (kube-system/aws-load-balancer-controller)."
  value       = module.eks.load_balancer_controller_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IAM role for the cluster autoscaler's service account (kube-system/cluster-autoscaler)."
  value       = module.eks.cluster_autoscaler_role_arn
}

output "alarm_topic_arn" {
  description = "SNS topic that receives the tenant's alarms."
  value       = aws_sns_topic.alarms.arn
}

output "vpc_id" {
  description = "ID of the tenant's VPC."
  value       = module.network.vpc_id
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of the tenant's Redis (TLS on 6379; use rediss://)."
  value       = module.redis.primary_endpoint
}

output "redis_secret_arn" {
  description = "ARN of the Secrets Manager secret with Redis's AUTH token and URL; the token itself is never an output."
  value       = module.redis.secret_arn
}

output "image_repository_url" {
  description = "Registry and repository of the app's image (image_repository, or the stack's own ECR repository)."
  value       = local.own_registry ? aws_ecr_repository.app[0].repository_url : var.image_repository
}

output "certificate_arn" {
  description = "ACM certificate of the store's host names once validated (for the Ingress); null without hostnames."
  value       = local.has_hostnames ? aws_acm_certificate_validation.store[0].certificate_arn : null
}
