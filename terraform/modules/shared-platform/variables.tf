variable "name" {
  description = "Name prefix of every resource of the shared platform (e.g. `lb-platform`)."
  type        = string
  default     = "lb-platform"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name)) && !strcontains(var.name, "--")
    error_message = "The name is 2 to 31 lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "availability_zones" {
  description = "Names of 2 to 4 availability zones of the region for subnets, nodes, the database standby and Redis replicas."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "Give 2 to 4 availability zones."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the platform's VPC, /16 to /20."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    )
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length from /16 to /20."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version (e.g. `1.35`)."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The Kubernetes version is a minor version such as 1.35."
  }
}

variable "cluster_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly too (only to cluster_endpoint_public_access_cidrs)."
  type        = bool
  default     = false
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "IPv4 ranges allowed to a public Kubernetes API endpoint (e.g. the office VPN)."
  type        = list(string)
  default     = []
}

variable "cluster_admin_role_arns" {
  description = "IAM roles with cluster-admin on the platform cluster (CI deploys, on-call)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the node group, in order of preference."
  type        = list(string)
  default     = ["m7i.xlarge"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "Give at least one EC2 instance type such as m7i.xlarge."
  }
}

variable "node_ami_type" {
  description = "EKS AMI type matching the instance types' architecture."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_disk_size_gb" {
  description = "Root volume of each node in GB."
  type        = number
  default     = 80
}

variable "node_min_count" {
  description = "Fewest nodes (at least 3 for the shared tier)."
  type        = number
  default     = 3

  validation {
    condition     = var.node_min_count >= 3
    error_message = "The shared platform keeps at least three nodes."
  }
}

variable "node_max_count" {
  description = "Most nodes the autoscaler may run."
  type        = number
  default     = 20

  validation {
    condition     = var.node_max_count >= var.node_min_count && var.node_max_count <= 100
    error_message = "node_max_count is at least node_min_count and at most 100."
  }
}

variable "node_desired_count" {
  description = "Nodes at creation; the cluster autoscaler decides afterwards."
  type        = number
  default     = 3

  validation {
    condition     = var.node_desired_count >= var.node_min_count && var.node_desired_count <= var.node_max_count
    error_message = "node_desired_count lies between node_min_count and node_max_count."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the shared PostgreSQL."
  type        = string
  default     = "db.r7g.xlarge"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "An RDS instance class looks like db.<family>.<size>, e.g. db.r7g.xlarge."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major (or major.minor) version, 15 or newer."
  type        = string
  default     = "16"
}

variable "db_allocated_storage_gb" {
  description = "Initial database storage in GB."
  type        = number
  default     = 200
}

variable "db_max_allocated_storage_gb" {
  description = "Ceiling of database storage autoscaling in GB."
  type        = number
  default     = 2000

  validation {
    condition     = var.db_max_allocated_storage_gb >= var.db_allocated_storage_gb
    error_message = "db_max_allocated_storage_gb is at least db_allocated_storage_gb."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (7 to 35)."
  type        = number
  default     = 30
}

variable "db_connections_alarm_count" {
  description = "Alarm when database connections stay above this count."
  type        = number
  default     = 1500
}

variable "redis_engine_version" {
  description = "Redis engine version of the ElastiCache replication group (7.0 or newer)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[7-9]\\.[0-9]+$", var.redis_engine_version))
    error_message = "Use Redis 7.0 or newer (major.minor)."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type (e.g. `cache.r7g.large`)."
  type        = string
  default     = "cache.r7g.large"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "An ElastiCache node type looks like cache.<family>.<size>."
  }
}

variable "redis_node_count" {
  description = "Redis nodes: one primary and the rest replicas in other zones (2 to 6)."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_node_count >= 2 && var.redis_node_count <= 6
    error_message = "Automatic failover needs 2 to 6 nodes."
  }
}

variable "domain_aliases" {
  description = "Host names CloudFront answers for: the platform domain and its store wildcard (e.g. `localbazaar.example`, `*.localbazaar.example`)."
  type        = list(string)

  validation {
    condition     = length(var.domain_aliases) > 0
    error_message = "Give at least the platform's domain."
  }
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 covering every domain alias."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$", var.cloudfront_certificate_arn))
    error_message = "CloudFront takes an ACM certificate ARN from us-east-1."
  }
}

variable "app_origin_domain_name" {
  description = "DNS name of the app's internet-facing load balancer (made by the in-cluster load balancer controller); null until it exists, when CloudFront serves media only."
  type        = string
  default     = null
}

variable "media_path_pattern" {
  description = "Request paths CloudFront serves straight from the media bucket."
  type        = string
  default     = "/media/*"
}

variable "cloudfront_price_class" {
  description = "CloudFront price class: which edge locations serve the platform."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_All", "PriceClass_200", "PriceClass_100"], var.cloudfront_price_class)
    error_message = "The price class is PriceClass_All, PriceClass_200 or PriceClass_100."
  }
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one IP may send in 5 minutes before the WAF blocks it."
  type        = number
  default     = 2000

  validation {
    condition     = var.waf_rate_limit_per_5_minutes >= 100
    error_message = "WAF rate limits start at 100 requests per 5 minutes."
  }
}

variable "media_noncurrent_version_retention_days" {
  description = "Days a replaced or deleted media object version is kept."
  type        = number
  default     = 90
}

variable "app_namespace" {
  description = "Kubernetes namespace the app runs in."
  type        = string
  default     = "localbazaar"
}

variable "app_service_account" {
  description = "Kubernetes service account of the app's pods (bound to the IRSA role)."
  type        = string
  default     = "localbazaar"
}

variable "log_retention_days" {
  description = "Days to keep flow, control-plane, database, cache, WAF and access logs (at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Keep logs at least a year, in a retention CloudWatch accepts (365, 400, 545, 731, ...)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every alarm email is an email address."
  }
}

variable "tags" {
  description = "Tags added to every resource (the module adds localbazaar:tenancy = shared)."
  type        = map(string)
  default     = {}
}
