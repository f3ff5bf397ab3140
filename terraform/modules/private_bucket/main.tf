# A bucket for short-lived objects that nobody reads anonymously: public
# access blocked, owner-enforced, encrypted, every object deleted after
# expiration_days, plain HTTP denied. Used for the image function's uploads and
# for Ansible's SSM file transfers.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Objects live a day or so; server access logs would keep a record of every key (photo names) longer than the objects themselves.
  #checkov:skip=CKV_AWS_144:Short-lived objects; a replica in a second region would keep copies the lifecycle rule does not reach.
  #checkov:skip=CKV_AWS_145:SSE-S3: uploads are served publicly through CloudFront anyway, and SSE-KMS would add a KMS call to every presigned PUT and CloudFront fetch.
  #checkov:skip=CKV_AWS_21:Versioning would keep deleted and overwritten objects as noncurrent versions, against the retention promise.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications; the image function confirms uploads with a HEAD.
  bucket_prefix = var.name_prefix
  # Everything in it expires within days by design, so destroy may empty it.
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-objects"
    status = "Enabled"

    filter {}

    expiration {
      days = var.expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_documents

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  # A policy that grants a service principal is refused while the block is being set.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
