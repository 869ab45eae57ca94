output "bucket_name" {
  description = "Name of the log bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_domain_name" {
  description = "Domain name of the log bucket (what CloudFront's logging configuration wants)."
  value       = aws_s3_bucket.this.bucket_domain_name
}
