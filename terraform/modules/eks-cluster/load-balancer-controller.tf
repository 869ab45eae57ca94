# IRSA role of the AWS Load Balancer Controller (service account kube-system/aws-load-balancer-controller),
# which makes the app's application load balancers from Ingress objects. Least privilege: reads are
# account-wide (the describe APIs take no resource); everything it creates must carry the tag
# elbv2.k8s.aws/cluster = <this cluster>, and it may change or delete only what carries that tag, in this
# account and region. Application load balancers only: no network load balancers, Shield, WAF Classic,
# Cognito or IAM server certificates, so install the controller with enableShield=false and
# enableWaf=false (WAFv2 stays), and with its region and VPC ID as values (pods cannot reach IMDS).

data "aws_region" "current" {}

locals {
  lbc_account = data.aws_caller_identity.current.account_id
  lbc_region  = data.aws_region.current.region
  lbc_vpc_id  = aws_eks_cluster.this.vpc_config[0].vpc_id
  lbc_elb     = "arn:${local.partition}:elasticloadbalancing:${local.lbc_region}:${local.lbc_account}"
  lbc_ec2     = "arn:${local.partition}:ec2:${local.lbc_region}:${local.lbc_account}"
  # The tag the controller puts on every load balancer, target group and security group it makes.
  lbc_cluster_tag = "elbv2.k8s.aws/cluster"

  lbc_load_balancers = "${local.lbc_elb}:loadbalancer/app/*/*"
  lbc_target_groups  = "${local.lbc_elb}:targetgroup/*/*"
  lbc_listeners      = "${local.lbc_elb}:listener/app/*/*/*"
  lbc_listener_rules = "${local.lbc_elb}:listener-rule/app/*/*/*"
  lbc_security_group = "${local.lbc_ec2}:security-group/*"
}

resource "aws_iam_role" "load_balancer_controller" {
  name               = "${var.name}-lb-controller"
  description        = "AWS Load Balancer Controller of ${var.name} (kube-system/aws-load-balancer-controller)"
  assume_role_policy = data.aws_iam_policy_document.controller_assume["lb-controller"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "load_balancer_controller" {
  statement {
    sid       = "ElbServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.lbc_account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid = "Describe"
    actions = [
      "acm:ListCertificates",
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeTags",
      "ec2:DescribeVpcPeeringConnections",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeCapacityReservation",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeSSLPolicies",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTrustStores",
    ]
    resources = ["*"]
  }

  # Certificate discovery: the listener's certificate is found by the Ingress's host names.
  statement {
    sid       = "ReadCertificates"
    actions   = ["acm:DescribeCertificate"]
    resources = ["arn:${local.partition}:acm:${local.lbc_region}:${local.lbc_account}:certificate/*"]
  }

  statement {
    sid = "Wafv2OnOwnLoadBalancers"
    actions = [
      "elasticloadbalancing:SetWebAcl",
      "wafv2:AssociateWebACL",
      "wafv2:DisassociateWebACL",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
    ]
    resources = [
      local.lbc_load_balancers,
      "arn:${local.partition}:wafv2:${local.lbc_region}:${local.lbc_account}:regional/webacl/*/*",
    ]
  }

  # --- Security groups: its own (tagged at creation), and ingress rules on this VPC's groups ---------

  statement {
    sid       = "ListSecurityGroupsOfThisVpc"
    actions   = ["ec2:GetSecurityGroupsForVpc"]
    resources = ["${local.lbc_ec2}:vpc/${local.lbc_vpc_id}", local.lbc_security_group]
  }

  statement {
    sid       = "CreateSecurityGroupInThisVpc"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = ["${local.lbc_ec2}:vpc/${local.lbc_vpc_id}"]
  }

  statement {
    sid       = "CreateTaggedSecurityGroup"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = [local.lbc_security_group]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "TagSecurityGroupAtCreation"
    actions   = ["ec2:CreateTags"]
    resources = [local.lbc_security_group]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateSecurityGroup"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "RetagOwnSecurityGroups"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = [local.lbc_security_group]

    # The cluster tag itself is never added, changed or removed afterwards.
    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = ["true"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  # Rules from the load balancer's group into the nodes' group, which the controller does not own.
  statement {
    sid       = "IngressRulesInThisVpc"
    actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
    resources = [local.lbc_security_group]

    condition {
      test     = "StringEquals"
      variable = "ec2:Vpc"
      values   = ["${local.lbc_ec2}:vpc/${local.lbc_vpc_id}"]
    }
  }

  statement {
    sid       = "DeleteOwnSecurityGroups"
    actions   = ["ec2:DeleteSecurityGroup"]
    resources = [local.lbc_security_group]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  # --- Load balancers, target groups, listeners and rules ----------------------------------------

  statement {
    sid       = "CreateTaggedLoadBalancersAndTargetGroups"
    actions   = ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"]
    resources = [local.lbc_load_balancers, local.lbc_target_groups]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "TagAtCreation"
    actions   = ["elasticloadbalancing:AddTags"]
    resources = [local.lbc_load_balancers, local.lbc_target_groups]

    condition {
      test     = "StringEquals"
      variable = "elasticloadbalancing:CreateAction"
      values   = ["CreateLoadBalancer", "CreateTargetGroup"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "RetagOwnLoadBalancersAndTargetGroups"
    actions   = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]
    resources = [local.lbc_load_balancers, local.lbc_target_groups]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.lbc_cluster_tag}"
      values   = ["true"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid       = "TagListenersAndRules"
    actions   = ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]
    resources = [local.lbc_listeners, local.lbc_listener_rules]
  }

  statement {
    sid = "ChangeOwnLoadBalancersAndTargetGroups"
    actions = [
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:ModifyCapacityReservation",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
    ]
    resources = [local.lbc_load_balancers, local.lbc_target_groups, local.lbc_listeners]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.lbc_cluster_tag}"
      values   = [var.name]
    }
  }

  statement {
    sid = "ListenersAndRulesOfApplicationLoadBalancers"
    actions = [
      "elasticloadbalancing:AddListenerCertificates",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateRule",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:DeleteRule",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyRule",
      "elasticloadbalancing:RemoveListenerCertificates",
      "elasticloadbalancing:SetRulePriorities",
    ]
    resources = [local.lbc_load_balancers, local.lbc_listeners, local.lbc_listener_rules]
  }
}

resource "aws_iam_role_policy" "load_balancer_controller" {
  name   = "manage-application-load-balancers"
  role   = aws_iam_role.load_balancer_controller.id
  policy = data.aws_iam_policy_document.load_balancer_controller.json
}
