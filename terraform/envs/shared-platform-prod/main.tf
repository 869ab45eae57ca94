# Root for the production shared platform.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      "localbazaar:managed-by"  = "terraform"
      "localbazaar:stack"       = "shared-platform"
      "localbazaar:environment" = "prod"
    }
  }
}

# CloudFront's certificate, WAF web ACL and WAF logs live in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      "localbazaar:managed-by"  = "terraform"
      "localbazaar:stack"       = "shared-platform"
      "localbazaar:environment" = "prod"
    }
  }
}

locals {
  availability_zones = var.availability_zones != null ? var.availability_zones : [for suffix in ["a", "b", "c"] : "${var.region}${suffix}"]
}

module "platform" {
  source = "../../modules/shared-platform"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                       = "lb-platform"
  availability_zones         = local.availability_zones
  vpc_cidr                   = var.vpc_cidr
  cluster_admin_role_arns    = var.cluster_admin_role_arns
  node_instance_types        = var.node_instance_types
  node_min_count             = var.node_min_count
  node_max_count             = var.node_max_count
  node_desired_count         = var.node_desired_count
  db_instance_class          = var.db_instance_class
  redis_node_type            = var.redis_node_type
  domain_aliases             = var.domain_aliases
  cloudfront_certificate_arn = var.cloudfront_certificate_arn
  app_origin_domain_name     = var.app_origin_domain_name
  alarm_emails               = var.alarm_emails
}
