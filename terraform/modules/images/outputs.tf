output "bucket" {
  description = "Name of the upload bucket."
  value       = module.uploads.id
}

output "bucket_arn" {
  description = "ARN of the upload bucket."
  value       = module.uploads.arn
}

output "cdn_base_url" {
  description = "Base URL of uploaded photos (https://<cdn_host>)."
  value       = "https://${var.cdn_host}"
}

output "distribution_id" {
  description = "CloudFront distribution in front of the bucket."
  value       = aws_cloudfront_distribution.uploads.id
}

output "image_function_user" {
  description = "IAM user whose key signs the presigned uploads."
  value       = aws_iam_user.image_function.name
}
