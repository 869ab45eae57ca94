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

output "media_bucket_name" {
  description = "Name of the tenant's media bucket."
  value       = module.media.bucket_name
}

output "irsa_role_arn" {
  description = "IAM role for the app's service account (annotation `eks.amazonaws.com/role-arn`)."
  value       = module.app_role.role_arn
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
