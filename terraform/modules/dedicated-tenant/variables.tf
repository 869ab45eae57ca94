variable "tenant_slug" {
  description = "The tenant's subdomain (its slug in LocalBazaar); names every resource `lb-<slug>-...`."
  type        = string

  validation {
    # The app's subdomain rule, less two hyphens in a row (RDS identifiers refuse them).
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.tenant_slug)) && !strcontains(var.tenant_slug, "--")
    error_message = "tenant_slug is 3 to 40 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the tenant's VPC, /16 to /20; distinct per tenant if VPCs are ever peered."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    )
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length from /16 to /20."
  }
}

variable "availability_zones" {
  description = "Names of 2 to 4 availability zones of the region for subnets, nodes and the database standby."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "Give 2 to 4 availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones instead of one per zone (cheaper, less available)."
  type        = bool
  default     = false
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
  description = "IPv4 ranges allowed to a public Kubernetes API endpoint (e.g. the control plane's NAT IPs)."
  type        = list(string)
  default     = []
}

variable "cluster_admin_role_arns" {
  description = "IAM roles with cluster-admin on the tenant's cluster (the provisioning runner, on-call)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the node group, in order of preference."
  type        = list(string)
  default     = ["m7i.large"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "Give at least one EC2 instance type such as m7i.large."
  }
}

variable "node_ami_type" {
  description = "EKS AMI type matching the instance types' architecture (AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, ...)."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_disk_size_gb" {
  description = "Root volume of each node in GB."
  type        = number
  default     = 50
}

variable "node_min_count" {
  description = "Fewest nodes (at least 2, so a node loss does not take the store down)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_count >= 2
    error_message = "A dedicated tenant keeps at least two nodes."
  }
}

variable "node_max_count" {
  description = "Most nodes the autoscaler may run."
  type        = number
  default     = 6

  validation {
    condition     = var.node_max_count >= var.node_min_count && var.node_max_count <= 50
    error_message = "node_max_count is at least node_min_count and at most 50."
  }
}

variable "node_desired_count" {
  description = "Nodes at creation; the cluster autoscaler decides afterwards."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_count >= var.node_min_count && var.node_desired_count <= var.node_max_count
    error_message = "node_desired_count lies between node_min_count and node_max_count."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the tenant's PostgreSQL."
  type        = string
  default     = "db.m7g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "An RDS instance class looks like db.<family>.<size>, e.g. db.m7g.large."
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
  default     = 50
}

variable "db_max_allocated_storage_gb" {
  description = "Ceiling of database storage autoscaling in GB."
  type        = number
  default     = 500

  validation {
    condition     = var.db_max_allocated_storage_gb >= var.db_allocated_storage_gb
    error_message = "db_max_allocated_storage_gb is at least db_allocated_storage_gb."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (7 to 35)."
  type        = number
  default     = 14
}

variable "db_connections_alarm_count" {
  description = "Alarm when database connections stay above this count."
  type        = number
  default     = 400
}

variable "media_noncurrent_version_retention_days" {
  description = "Days a replaced or deleted media object version is kept."
  type        = number
  default     = 90
}

variable "redis_engine_version" {
  description = "Redis engine version of the tenant's ElastiCache replication group (7.0 or newer)."
  type        = string
  default     = "7.1"
}

variable "redis_node_type" {
  description = "ElastiCache node type of the tenant's Redis (two nodes: a primary and a replica in another zone)."
  type        = string
  default     = "cache.t4g.medium"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "An ElastiCache node type looks like cache.<family>.<size>, e.g. cache.t4g.medium."
  }
}

variable "redis_snapshot_retention_days" {
  description = "Days to keep Redis's daily snapshots (1 to 35)."
  type        = number
  default     = 7
}

variable "image_repository" {
  description = "Registry and repository of the app's image (e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/localbazaar`); empty makes an ECR repository of the stack's own."
  type        = string
  default     = ""

  validation {
    condition     = var.image_repository == "" || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$", var.image_repository))
    error_message = "image_repository is <registry host>/<repository>, without a tag, or empty."
  }
}

variable "image_retention_count" {
  description = "Images the stack's own ECR repository keeps; older ones expire."
  type        = number
  default     = 30

  validation {
    condition     = var.image_retention_count >= 1
    error_message = "Keep at least one image."
  }
}

variable "hostnames" {
  description = "The store's host names (e.g. `shop.example.com`, `*.shop.example.com`), all in route53_zone_id: one ACM certificate covers them and each gets an alias to the load balancer. Empty: no certificate, no records."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.hostnames) <= 10 && alltrue([for h in var.hostnames : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", h))])
    error_message = "Give at most 10 lowercase host names (ACM's default per certificate), each optionally starting with *."
  }

  validation {
    condition     = length(distinct(var.hostnames)) == length(var.hostnames)
    error_message = "Give each host name once."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone holding the host names: the certificate's validation records and the aliases go there."
  type        = string
  default     = ""

  validation {
    condition     = length(var.hostnames) == 0 || can(regex("^Z[A-Z0-9]+$", var.route53_zone_id))
    error_message = "With hostnames, give the ID of their Route 53 hosted zone (Z...)."
  }
}

variable "load_balancer_dns_name" {
  description = "DNS name of the app's load balancer, made by the load balancer controller at the first deploy; empty until then (no alias records). Set it and apply again."
  type        = string
  default     = ""
}

variable "load_balancer_zone_id" {
  description = "Route 53 zone ID of that load balancer (its region's, e.g. `Z32O12XQLNTSW2` in eu-west-1); empty until then."
  type        = string
  default     = ""

  validation {
    condition     = (var.load_balancer_zone_id == "") == (var.load_balancer_dns_name == "")
    error_message = "Give load_balancer_dns_name and load_balancer_zone_id together, or neither."
  }
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
  description = "Days to keep flow logs, control-plane, database and access logs (at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Keep logs at least a year, in a retention CloudWatch accepts (365, 400, 545, 731, ...)."
  }
}

variable "publishing_token" {
  description = "The store's marketplace publishing token (the platform derives it), stored as MARKETPLACE_PUBLISHING_TOKEN in the app secret; pass it as TF_VAR_publishing_token, never in a file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.publishing_token) >= 32
    error_message = "publishing_token is at least 32 characters."
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

variable "allow_destroy" {
  description = "Deprovisioning switch: lifts the database's deletion protection and lets the media bucket be deleted with its objects. Apply with it true, after the final export, then destroy."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource (the module adds localbazaar:tenant and localbazaar:tenancy)."
  type        = map(string)
  default     = {}
}
