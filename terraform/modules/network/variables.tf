variable "name" {
  description = "Name prefix for the VPC and everything in it (e.g. `lb-bakery`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,45}$", var.name))
    error_message = "The name is 2 to 46 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC, a /16 to /20 private block (e.g. `10.40.0.0/16`)."
  type        = string

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    )
    error_message = "vpc_cidr must be a valid IPv4 CIDR block with a prefix length from /16 to /20."
  }
}

variable "availability_zones" {
  description = "Names of the availability zones to spread the subnets over, 2 to 4 (e.g. `[\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]`)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "Give 2 to 4 distinct zones: at least two for Multi-AZ databases and node groups."
  }
}

variable "single_nat_gateway" {
  description = "Use one NAT gateway for all zones (cheaper, but egress fails with that zone) instead of one per zone."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs in CloudWatch."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "Keep flow logs at least a year, in a retention CloudWatch accepts (365, 400, 545, 731, ...)."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow-log group (the key must allow CloudWatch Logs)."
  type        = string
}

variable "private_subnet_tags" {
  description = "Extra tags for the private subnets (e.g. `kubernetes.io/cluster/<name>`)."
  type        = map(string)
  default     = {}
}

variable "public_subnet_tags" {
  description = "Extra tags for the public subnets."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
