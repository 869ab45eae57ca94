output "cluster_name" {
  description = "Name of the platform's EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the platform's Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API server, for kubeconfig."
  value       = module.eks.cluster_certificate_authority_data
}

output "database_endpoint" {
  description = "Endpoint (host:port) of the shared PostgreSQL."
  value       = module.database.endpoint
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials; the password itself is never an output."
  value       = module.database.master_user_secret_arn
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of Redis (TLS on 6379; use rediss://)."
  value       = module.redis.primary_endpoint
}

output "redis_secret_arn" {
  description = "ARN of the Secrets Manager secret with Redis's AUTH token and URL."
  value       = module.redis.secret_arn
}

output "media_bucket_name" {
  description = "Name of the platform's media bucket."
  value       = module.media.bucket_name
}

output "cloudfront_domain_name" {
  description = "CloudFront domain to point the platform's DNS aliases at."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "cloudfront_distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "waf_web_acl_arn" {
  description = "ARN of the WAF web ACL in front of CloudFront."
  value       = aws_wafv2_web_acl.this.arn
}

output "load_balancer_controller_role_arn" {
  description = "IAM role for the AWS Load Balancer Controller's service account (kube-system/aws-load-balancer-controller)."
  value       = module.eks.load_balancer_controller_role_arn
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
  description = "SNS topic that receives the platform's alarms."
  value       = aws_sns_topic.alarms.arn
}

output "nat_public_ips" {
  description = "Public IPs the platform egresses from: allow them to dedicated tenants' public API endpoints."
  value       = module.network.nat_public_ips
}
