# Root for one dedicated tenant. The `terraform` provisioning backend copies it into the tenant's
# working directory, writes terraform.tfvars.json, and inits with the tenant's own state key.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      "localbazaar:managed-by" = "terraform"
      "localbazaar:stack"      = "dedicated-tenant"
    }
  }
}

locals {
  # Without explicit zones, the region's a, b and c zones.
  availability_zones = var.availability_zones != null ? var.availability_zones : [for suffix in ["a", "b", "c"] : "${var.region}${suffix}"]
}

module "tenant" {
  source = "../../modules/dedicated-tenant"

  tenant_slug                          = var.tenant_slug
  availability_zones                   = local.availability_zones
  vpc_cidr                             = var.vpc_cidr
  kubernetes_version                   = var.kubernetes_version
  cluster_admin_role_arns              = var.cluster_admin_role_arns
  cluster_endpoint_public_access       = var.cluster_endpoint_public_access
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  node_instance_types                  = var.node_instance_types
  node_min_count                       = var.node_min_count
  node_max_count                       = var.node_max_count
  node_desired_count                   = var.node_desired_count
  db_instance_class                    = var.db_instance_class
  db_allocated_storage_gb              = var.db_allocated_storage_gb
  redis_node_type                      = var.redis_node_type
  image_repository                     = var.image_repository
  hostnames                            = var.hostnames
  route53_zone_id                      = var.route53_zone_id
  load_balancer_dns_name               = var.load_balancer_dns_name
  load_balancer_zone_id                = var.load_balancer_zone_id
  alarm_emails                         = var.alarm_emails
  publishing_token                     = var.publishing_token
  allow_destroy                        = var.allow_destroy
}
