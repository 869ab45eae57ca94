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

  # Partial configuration: bucket, key (platform/prod/terraform.tfstate), region and dynamodb_table
  # come from -backend-config at init (see ../../README.md).
  backend "s3" {
    encrypt = true
  }
}
