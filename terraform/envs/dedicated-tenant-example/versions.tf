terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: bucket, key, region and dynamodb_table come from -backend-config at init,
  # with one state per tenant at key = tenants/<slug>/terraform.tfstate (see ../../README.md).
  backend "s3" {
    encrypt = true
  }
}
