variable "region" {
  description = "AWS region of the shared platform (e.g. `eu-west-1`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region is an AWS region code such as eu-west-1."
  }
}

variable "availability_zones" {
  description = "Availability zones to use (2 to 4); null means the region's a, b and c zones."
  type        = list(string)
  default     = null
}

variable "vpc_cidr" {
  description = "IPv4 range of the platform's VPC (/16 to /20)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "cluster_admin_role_arns" {
  description = "IAM roles with cluster-admin on the platform cluster (CI deploys, on-call)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the platform's nodes."
  type        = list(string)
  default     = ["m7i.xlarge"]
}

variable "node_min_count" {
  description = "Fewest nodes (at least 3)."
  type        = number
  default     = 3
}

variable "node_max_count" {
  description = "Most nodes the autoscaler may run."
  type        = number
  default     = 20
}

variable "node_desired_count" {
  description = "Nodes at creation."
  type        = number
  default     = 3
}

variable "db_instance_class" {
  description = "RDS instance class of the shared PostgreSQL."
  type        = string
  default     = "db.r7g.xlarge"
}

variable "redis_node_type" {
  description = "ElastiCache node type of Redis."
  type        = string
  default     = "cache.r7g.large"
}

variable "domain_aliases" {
  description = "Platform domain and store wildcard CloudFront answers for."
  type        = list(string)
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate (us-east-1) covering the domain aliases."
  type        = string
}

variable "app_origin_domain_name" {
  description = "DNS name of the app's load balancer; null until the ingress has made it."
  type        = string
  default     = null
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the platform's alarm topic."
  type        = list(string)
  default     = []
}
