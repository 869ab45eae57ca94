variable "name" {
  description = "Name prefix of the replication group, its secret (`<name>/redis`), subnet group, security group, logs and alarms (e.g. `lb-platform`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.name)) && !strcontains(var.name, "--") && !endswith(var.name, "-")
    error_message = "The name is 2 to 63 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "vpc_id" {
  description = "VPC Redis lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones, for the primary and its replicas."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Automatic failover needs subnets in at least two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect on 6379 (the EKS cluster's nodes)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "Give at least the cluster's security group, or nothing can reach Redis."
  }
}

variable "engine_version" {
  description = "Redis engine version (7.0 or newer, major.minor)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[7-9]\\.[0-9]+$", var.engine_version))
    error_message = "Use Redis 7.0 or newer (major.minor)."
  }
}

variable "node_type" {
  description = "ElastiCache node type (e.g. `cache.r7g.large`)."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "An ElastiCache node type looks like cache.<family>.<size>."
  }
}

variable "node_count" {
  description = "Nodes: one primary and the rest replicas in other zones (2 to 6)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_count >= 2 && var.node_count <= 6
    error_message = "Automatic failover needs 2 to 6 nodes."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the data at rest, snapshots and the AUTH-token secret."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the slow-log and engine-log groups (it must allow CloudWatch Logs)."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep the slow and engine logs."
  type        = number
  default     = 365
}

variable "snapshot_retention_days" {
  description = "Days to keep the daily snapshots (1 to 35)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "Keep snapshots 1 to 35 days."
  }
}

variable "snapshot_window" {
  description = "Daily UTC window of the snapshot (hh24:mi-hh24:mi), outside the maintenance window."
  type        = string
  default     = "01:00-02:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window (ddd:hh24:mi-ddd:hh24:mi)."
  type        = string
  default     = "sun:05:00-sun:06:00"
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives the engine CPU and memory alarms."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
