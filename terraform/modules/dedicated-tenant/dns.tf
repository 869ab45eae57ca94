# The store's TLS certificate and DNS in the Route 53 zone route53_zone_id. The certificate covers every
# host name and is validated through DNS records here. The load balancer itself is made by the in-cluster
# AWS Load Balancer Controller when the app is deployed, after this stack exists, so the host names'
# alias records wait for its DNS name and zone (load_balancer_dns_name, load_balancer_zone_id): a second
# apply, after the first deploy.

locals {
  has_hostnames = length(var.hostnames) > 0
  has_aliases   = local.has_hostnames && var.load_balancer_dns_name != ""
}

resource "aws_acm_certificate" "store" {
  count = local.has_hostnames ? 1 : 0

  domain_name               = var.hostnames[0]
  subject_alternative_names = slice(var.hostnames, 1, length(var.hostnames))
  validation_method         = "DNS"
  key_algorithm             = "RSA_2048"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  tags = merge(local.tags, { Name = "${local.name}-store" })

  # A new certificate (say, one more host name) is issued before the load balancer lets go of the old one.
  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation_options = {
    for option in try(aws_acm_certificate.store[0].domain_validation_options, []) : option.domain_name => option
  }
}

# Keyed by the host names, known at plan time; a wildcard and its apex share one record.
resource "aws_route53_record" "certificate_validation" {
  for_each = toset(var.hostnames)

  zone_id         = var.route53_zone_id
  name            = local.validation_options[each.key].resource_record_name
  type            = local.validation_options[each.key].resource_record_type
  records         = [local.validation_options[each.key].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "store" {
  count = local.has_hostnames ? 1 : 0

  certificate_arn         = aws_acm_certificate.store[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

resource "aws_route53_record" "store" {
  #checkov:skip=CKV2_AWS_23:The alias target is the ALB the in-cluster load balancer controller makes at deploy time, outside Terraform; its name and zone come in as variables.
  for_each = local.has_aliases ? toset(var.hostnames) : toset([])

  zone_id = var.route53_zone_id
  name    = each.value
  type    = "A"

  alias {
    name                   = var.load_balancer_dns_name
    zone_id                = var.load_balancer_zone_id
    evaluate_target_health = true
  }
}
