variable "role_name" {
  description = "Name of the IAM role."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "IAM role names are 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path without https:// (eks-cluster's `oidc_issuer` output)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the app's service account."
  type        = string
  default     = "localbazaar"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "A Kubernetes namespace is a DNS label."
  }
}

variable "service_account" {
  description = "Name of the app's Kubernetes service account (web, worker and beat share it)."
  type        = string
  default     = "localbazaar"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "A service account name is a DNS subdomain."
  }
}

variable "media_bucket_arn" {
  description = "ARN of the app's media bucket."
  type        = string
}

variable "media_kms_key_arn" {
  description = "KMS key of the media bucket."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the app may read (its database credentials, its cache token)."
  type        = list(string)

  validation {
    condition     = length(var.secret_arns) > 0 && alltrue([for a in var.secret_arns : startswith(a, "arn:")])
    error_message = "Give the ARNs of the app's secrets, at least one."
  }
}

variable "secrets_kms_key_arns" {
  description = "KMS keys that encrypt those secrets."
  type        = list(string)
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}
