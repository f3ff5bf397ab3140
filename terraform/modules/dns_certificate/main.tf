# An ACM certificate validated through Route53. The caller's provider decides
# the region: the ALB's region for the API, us-east-1 for CloudFront.

resource "aws_acm_certificate" "this" {
  domain_name               = var.domain_name
  subject_alternative_names = var.subject_alternative_names
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# A wildcard and its bare name (*.api.x and api.x) are validated by the same
# record: the bare name's is left out, so no record is written twice and the
# wildcard's keeps the key it had before the bare name was added.
resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.this.domain_validation_options : o.domain_name => o
    if !contains(concat([var.domain_name], var.subject_alternative_names), "*.${o.domain_name}")
  }

  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}
