variable "bucket_name" {
  description = "Globally unique name of the media bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts every object by default."
  type        = string
}

variable "access_log_bucket_name" {
  description = "Name of the bucket that receives this bucket's server access logs (see modules/log-bucket)."
  type        = string
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 31
    error_message = "Keep noncurrent versions more than 30 days (they move to STANDARD_IA after 30)."
  }
}

variable "cloudfront_distribution_arns" {
  description = "CloudFront distributions allowed to read objects through origin access control."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its objects (only after the final export)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
