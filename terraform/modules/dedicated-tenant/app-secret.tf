# The app's own secret, `lb-<slug>/app`: the JSON the ExternalSecret `localbazaar-secrets` extracts
# (platform/overlays/dedicated). SECRET_KEY is made here; the publishing token is derived by the
# platform and comes in through TF_VAR_publishing_token. Both are in the state, like the Redis token.

resource "random_password" "secret_key" {
  # Letters and digits only, so the key survives env files and shell quoting unchanged.
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:A rotated SECRET_KEY logs every shopper and merchant out, and the publishing token is derived by the platform; both change only by a deliberate apply, not a rotation Lambda.
  name                    = "${local.name}/app"
  description             = "SECRET_KEY and marketplace publishing token of ${local.name}'s app"
  kms_key_id              = module.kms["data"].key_arn
  recovery_window_in_days = 30
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    SECRET_KEY                   = random_password.secret_key.result
    MARKETPLACE_PUBLISHING_TOKEN = var.publishing_token
  })
}
