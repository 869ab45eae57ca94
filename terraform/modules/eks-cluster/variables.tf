variable "name" {
  description = "Cluster name, also the prefix of its IAM roles, node group and alarms."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,44}$", var.name))
    error_message = "The name is 2 to 45 lowercase letters, digits and hyphens, starting with a letter (IAM role names derived from it stop at 64)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane (e.g. `1.35`), one EKS supports in standard support."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The Kubernetes version is a minor version such as 1.35."
  }
}

variable "subnet_ids" {
  description = "Private subnets (two or more availability zones) for the control plane's interfaces and the nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API on the internet as well (restricted to endpoint_public_access_cidrs)."
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "IPv4 ranges allowed to reach a public API endpoint; never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "Give valid IPv4 CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "admin_role_arns" {
  description = "IAM roles granted cluster-admin through EKS access entries (e.g. the provisioning runner, on-call)."
  type        = list(string)
  default     = []
}

variable "secrets_kms_key_arn" {
  description = "KMS key that envelope-encrypts Kubernetes secrets."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the control-plane and Container Insights log groups."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep control-plane and Container Insights logs."
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group, in order of preference."
  type        = list(string)
  default     = ["m7i.large"]

  validation {
    condition     = length(var.node_instance_types) > 0 && alltrue([for t in var.node_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))])
    error_message = "Give at least one EC2 instance type such as m7i.large."
  }
}

variable "node_ami_type" {
  description = "EKS AMI type of the nodes; it must match the instance types' architecture."
  type        = string
  default     = "AL2023_x86_64_STANDARD"

  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"], var.node_ami_type)
    error_message = "Use an AL2023 or Bottlerocket AMI type."
  }
}

variable "node_capacity_type" {
  description = "ON_DEMAND or SPOT capacity for the nodes."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "The capacity type is ON_DEMAND or SPOT."
  }
}

variable "node_disk_size_gb" {
  description = "Root volume size of each node in GB (encrypted gp3)."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gb >= 20 && var.node_disk_size_gb <= 1000
    error_message = "The node disk is 20 to 1000 GB."
  }
}

variable "node_min_count" {
  description = "Fewest nodes the autoscaler keeps (also the node-count alarm's threshold)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_count >= 1
    error_message = "Keep at least one node."
  }
}

variable "node_max_count" {
  description = "Most nodes the autoscaler may run."
  type        = number
  default     = 6

  validation {
    condition     = var.node_max_count >= var.node_min_count && var.node_max_count <= 100
    error_message = "node_max_count is at least node_min_count and at most 100."
  }
}

variable "node_desired_count" {
  description = "Nodes at creation; afterwards the cluster autoscaler decides."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_count >= var.node_min_count && var.node_desired_count <= var.node_max_count
    error_message = "node_desired_count lies between node_min_count and node_max_count."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives the node alarms."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
