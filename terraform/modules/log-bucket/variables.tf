variable "bucket_name" {
  description = "Globally unique name of the log bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "S3 bucket names are 3 to 63 lowercase letters, digits, dots and hyphens."
  }
}

variable "retention_days" {
  description = "Days to keep log objects before they expire."
  type        = number
  default     = 365

  validation {
    condition     = var.retention_days >= 90
    error_message = "Keep access logs at least 90 days."
  }
}

variable "accept_cloudfront_logs" {
  description = "Keep ACLs enabled (owner preferred) so CloudFront standard logging can deliver here."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
