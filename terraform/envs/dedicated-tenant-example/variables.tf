variable "region" {
  description = "AWS region of the tenant's stack (e.g. `eu-west-1`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region is an AWS region code such as eu-west-1."
  }
}

variable "tenant_slug" {
  description = "The tenant's subdomain (slug); must match the slug in the state key tenants/<slug>/terraform.tfstate."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones to use (2 to 4); null means the region's a, b and c zones."
  type        = list(string)
  default     = null
}

variable "vpc_cidr" {
  description = "IPv4 range of the tenant's VPC (/16 to /20)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version; raise it one minor at a time on an existing cluster."
  type        = string
  default     = "1.35"
}

variable "cluster_admin_role_arns" {
  description = "IAM roles with cluster-admin on the tenant's cluster (the provisioning runner's role)."
  type        = list(string)
  default     = []
}

variable "cluster_endpoint_public_access" {
  description = "Expose the tenant's Kubernetes API publicly (only to cluster_endpoint_public_access_cidrs)."
  type        = bool
  default     = false
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "IPv4 ranges allowed to the public API endpoint (the shared platform's NAT IPs)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the tenant's nodes."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_min_count" {
  description = "Fewest nodes (at least 2)."
  type        = number
  default     = 2
}

variable "node_max_count" {
  description = "Most nodes the autoscaler may run."
  type        = number
  default     = 6
}

variable "node_desired_count" {
  description = "Nodes at creation."
  type        = number
  default     = 2
}

variable "db_instance_class" {
  description = "RDS instance class of the tenant's PostgreSQL."
  type        = string
  default     = "db.m7g.large"
}

variable "db_allocated_storage_gb" {
  description = "Initial database storage in GB."
  type        = number
  default     = 50
}

variable "redis_node_type" {
  description = "ElastiCache node type of the tenant's Redis (two nodes)."
  type        = string
  default     = "cache.t4g.medium"
}

variable "image_repository" {
  description = "Registry/repository of the app's image; empty makes an ECR repository in the tenant's stack."
  type        = string
  default     = ""
}

variable "hostnames" {
  description = "The store's host names (certificate and DNS aliases); all in route53_zone_id."
  type        = list(string)
  default     = []
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of the host names (certificate validation and aliases)."
  type        = string
  default     = ""
}

variable "load_balancer_dns_name" {
  description = "DNS name of the load balancer the first deploy made; empty until then (second apply adds the aliases)."
  type        = string
  default     = ""
}

variable "load_balancer_zone_id" {
  description = "Route 53 zone ID of that load balancer; empty until then."
  type        = string
  default     = ""
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the tenant's alarm topic."
  type        = list(string)
  default     = []
}

variable "publishing_token" {
  description = "The store's marketplace publishing token, for the app secret; only from TF_VAR_publishing_token in the environment, never in a file."
  type        = string
  sensitive   = true
}

variable "allow_destroy" {
  description = "Deprovisioning switch (apply with true after the final export, then destroy)."
  type        = bool
  default     = false
}
