# The image function's upload bucket. The browser PUTs a photo straight to S3
# with a presigned URL; scan and chat read it back through CloudFront. Photos
# are not kept: the lifecycle rule deletes every object retention_days after it
# was written (S3 runs expiry once a day, so an object may outlive that by up
# to a day).

data "aws_route53_zone" "this" {
  name         = var.domain
  private_zone = false
}

module "uploads" {
  source = "../private_bucket"

  name_prefix      = "${var.name}-uploads-"
  expiration_days  = var.retention_days
  policy_documents = [data.aws_iam_policy_document.cloudfront_read.json]
}

resource "aws_s3_bucket_cors_configuration" "uploads" {
  bucket = module.uploads.id

  cors_rule {
    allowed_methods = ["PUT"]
    allowed_origins = var.app_origins
    # The presigned URL pins Content-Type; the browser sends it, so it must be allowed.
    allowed_headers = ["content-type"]
    # The app reads the ETag of its PUT for the upload callback.
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

# --- CloudFront with origin access control ------------------------------------------

resource "aws_cloudfront_origin_access_control" "uploads" {
  name                              = "${var.name}-uploads"
  description                       = "CloudFront reads the upload bucket; nothing else does"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

module "certificate" {
  source = "../dns_certificate"

  providers = {
    aws = aws.us_east_1
  }

  domain_name = var.cdn_host
  zone_id     = data.aws_route53_zone.this.zone_id
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_response_headers_policy" "security" {
  name = "Managed-SecurityHeadersPolicy"
}

resource "aws_cloudfront_distribution" "uploads" {
  #checkov:skip=CKV_AWS_68:No WAF: the distribution serves short-lived photos by unguessable keys; a web ACL costs more than the traffic.
  #checkov:skip=CKV_AWS_86:Standard logging needs an ACL-enabled bucket; the keys it would record are photo names we do not keep.
  #checkov:skip=CKV_AWS_310:One origin; a failover origin would be a second bucket of photos.
  #checkov:skip=CKV_AWS_374:No geo restriction: the app is used wherever its users travel.
  #checkov:skip=CKV_AWS_305:No root object: the distribution serves photos by key, there is no index page.
  #checkov:skip=CKV2_AWS_47:No WAF (see CKV_AWS_68), so no Log4j rule set to attach.
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  comment         = "eco2 uploaded photos"
  aliases         = [var.cdn_host]
  price_class     = var.price_class

  origin {
    origin_id                = "uploads"
    domain_name              = module.uploads.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.uploads.id
  }

  default_cache_behavior {
    target_origin_id           = "uploads"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "redirect-to-https"
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = module.certificate.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}

resource "aws_route53_record" "cdn" {
  for_each = toset(["A", "AAAA"])

  zone_id = data.aws_route53_zone.this.zone_id
  name    = var.cdn_host
  type    = each.key

  alias {
    name                   = aws_cloudfront_distribution.uploads.domain_name
    zone_id                = aws_cloudfront_distribution.uploads.hosted_zone_id
    evaluate_target_health = false
  }
}

# Merged by the private_bucket module with its deny-plain-HTTP statement.
data "aws_iam_policy_document" "cloudfront_read" {
  statement {
    sid       = "CloudFrontReadsObjects"
    actions   = ["s3:GetObject"]
    resources = ["${module.uploads.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.uploads.arn]
    }
  }
}

# --- The image function's credentials ---------------------------------------------
#
# An IAM user, not a role: a presigned URL stays valid only while the key that
# signed it does, and a pod on this kubeadm cluster has no web identity to
# assume a role with (the nodes' IMDS is out of a pod's reach on purpose).
#
# What the policy grants, exactly, on <bucket>/<prefix>/* for each upload prefix:
#   s3:PutObject     the browser's presigned PUT (signed with this key)
#   s3:GetObject     needed for HeadObject: IAM has no HeadObject action; HEAD is
#                    authorised by s3:GetObject, which therefore also allows a GET
#                    of the same objects (the photos CloudFront serves anyway)
#   s3:DeleteObject  the callback deletes an oversized upload
# Nothing on the bucket itself: without s3:ListBucket, a HEAD of a key that does
# not exist answers 403, not 404, so the function must read 403 as "no such
# upload" (docs/infrastructure.md).

data "aws_iam_policy_document" "image_function" {
  statement {
    sid       = "UploadObjectsUnderChannelPrefixes"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [for p in var.upload_prefixes : "${module.uploads.arn}/${p}/*"]
  }
}

resource "aws_iam_group" "image_function" {
  name = "${var.name}-image-function"
}

resource "aws_iam_group_policy" "image_function" {
  name   = "uploads"
  group  = aws_iam_group.image_function.name
  policy = data.aws_iam_policy_document.image_function.json
}

resource "aws_iam_user" "image_function" {
  #checkov:skip=CKV_AWS_273:A machine identity, not a person: presigned URLs need a long-lived signing key (see above); people use SSO.
  name = "${var.name}-image-function"
}

resource "aws_iam_user_group_membership" "image_function" {
  user   = aws_iam_user.image_function.name
  groups = [aws_iam_group.image_function.name]
}

resource "aws_iam_access_key" "image_function" {
  user = aws_iam_user.image_function.name
}

resource "aws_ssm_parameter" "image" {
  #checkov:skip=CKV2_AWS_34:Only the secret access key is a secret, and it is a SecureString; bucket, URL and key id are not.
  #checkov:skip=CKV_AWS_337:SecureString with the account's aws/ssm key; a customer key would add a key policy to keep in step with the operators' roles.
  for_each = {
    "image/bucket"            = { type = "String", value = module.uploads.id }
    "image/cdn-base-url"      = { type = "String", value = "https://${var.cdn_host}" }
    "image/access-key-id"     = { type = "String", value = aws_iam_access_key.image_function.id }
    "image/secret-access-key" = { type = "SecureString", value = aws_iam_access_key.image_function.secret }
  }

  name  = "${var.ssm_prefix}/${each.key}"
  type  = each.value.type
  value = each.value.value
}
