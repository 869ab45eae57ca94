variable "identifier" {
  description = "RDS instance identifier, also the prefix of its subnet group, security group and alarms."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,47}[a-z0-9]$", var.identifier)) && !strcontains(var.identifier, "--")
    error_message = "The identifier starts with a letter, has lowercase letters, digits and single hyphens, at most 49 characters (IAM role names derived from it stop at 64)."
  }
}

variable "vpc_id" {
  description = "VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect on 5432 (the EKS cluster's nodes)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL version: a major (`16`) to follow minor upgrades, or a full `16.x`."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^(1[5-9]|[2-9][0-9])(\\.[0-9]+)?$", var.engine_version))
    error_message = "LocalBazaar needs PostgreSQL 15 or newer."
  }
}

variable "instance_class" {
  description = "RDS instance class (e.g. `db.m7g.large`)."
  type        = string
  default     = "db.m7g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "An RDS instance class looks like db.<family>.<size>, e.g. db.m7g.large."
  }
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "gp3 storage is 20 to 65536 GB."
  }
}

variable "max_allocated_storage_gb" {
  description = "Ceiling for storage autoscaling in GB (at least allocated_storage_gb)."
  type        = number
  default     = 500
}

variable "multi_az" {
  description = "Keep a synchronous standby in another availability zone."
  type        = bool
  default     = true
}

variable "database_name" {
  description = "Name of the database created on the instance."
  type        = string
  default     = "localbazaar"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "The database name starts with a letter and has lowercase letters, digits and underscores."
  }
}

variable "master_username" {
  description = "Master user name; its password is generated and rotated by RDS in Secrets Manager."
  type        = string
  default     = "localbazaar_admin"

  validation {
    # RDS for PostgreSQL takes up to 63 characters (16 is MySQL's limit).
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && !contains(["postgres", "rdsadmin", "admin"], var.master_username)
    error_message = "The master user name is 1 to 63 lowercase letters, digits and underscores, and not a reserved name."
  }
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master-password secret."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the CloudWatch log groups of the exported PostgreSQL logs."
  type        = string
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (7 to 35)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "Keep backups 7 to 35 days."
  }
}

variable "backup_window" {
  description = "Daily UTC window for automated backups (hh24:mi-hh24:mi), outside the maintenance window."
  type        = string
  default     = "02:00-03:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window (ddd:hh24:mi-ddd:hh24:mi)."
  type        = string
  default     = "sun:04:00-sun:05:00"
}

variable "deletion_protection" {
  description = "Refuse to delete the instance; turn off only to deprovision, after the final export."
  type        = bool
  default     = true
}

variable "monitoring_interval_seconds" {
  description = "Enhanced monitoring granularity in seconds (1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.monitoring_interval_seconds)
    error_message = "Enhanced monitoring runs every 1, 5, 10, 15, 30 or 60 seconds."
  }
}

variable "slow_query_log_ms" {
  description = "Log statements that run longer than this many milliseconds."
  type        = number
  default     = 500
}

variable "log_retention_days" {
  description = "Days to keep the exported PostgreSQL logs."
  type        = number
  default     = 365
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives the database alarms."
  type        = string
}

variable "cpu_alarm_percent" {
  description = "Alarm when average CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "free_storage_alarm_gb" {
  description = "Alarm when free storage drops below this many GB."
  type        = number
  default     = 10
}

variable "connections_alarm_count" {
  description = "Alarm when connections stay above this count for 10 minutes."
  type        = number
  default     = 400
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
