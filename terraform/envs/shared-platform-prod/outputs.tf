output "cluster_name" {
  description = "Name of the platform's EKS cluster."
  value       = module.platform.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the platform's Kubernetes API server."
  value       = module.platform.cluster_endpoint
}

output "database_endpoint" {
  description = "Endpoint (host:port) of the shared PostgreSQL."
  value       = module.platform.database_endpoint
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials."
  value       = module.platform.database_secret_arn
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of Redis (TLS)."
  value       = module.platform.redis_primary_endpoint
}

output "redis_secret_arn" {
  description = "ARN of the Secrets Manager secret with Redis's AUTH token and URL."
  value       = module.platform.redis_secret_arn
}

output "media_bucket_name" {
  description = "Name of the platform's media bucket."
  value       = module.platform.media_bucket_name
}

output "cloudfront_domain_name" {
  description = "CloudFront domain to point the DNS aliases at."
  value       = module.platform.cloudfront_domain_name
}

output "irsa_role_arn" {
  description = "IAM role for the app's service account."
  value       = module.platform.irsa_role_arn
}

output "nat_public_ips" {
  description = "Egress IPs of the platform (allow them to dedicated tenants' API endpoints)."
  value       = module.platform.nat_public_ips
}
