# Internet → ALB (TLS ends here, ACM wildcard) → Kourier's HTTP NodePort on the
# workers. Knative routes by Host, so every function host shares one target
# group; the health check asks Kourier's own envoy whether it is ready (its
# stats listener answers GET /ready for any Host), never a function, which may
# be scaled to zero and would answer a Host-less request with 404.

data "aws_route53_zone" "this" {
  name         = var.domain
  private_zone = false
}

module "certificate" {
  source = "../dns_certificate"

  domain_name = "*.${var.api_domain}"
  zone_id     = data.aws_route53_zone.this.zone_id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:No WAF by default (a web ACL costs a monthly fee plus per request); the functions rate-limit themselves. Attach one with aws_wafv2_web_acl_association if needed.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [var.alb_security_group_id]
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_lb_target_group" "kourier" {
  name                 = "${var.name}-kourier"
  port                 = var.kourier_http_node_port
  protocol             = "HTTP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = tostring(var.kourier_ready_node_port)
    path                = "/ready"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = module.certificate.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.kourier.arn
  }
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_route53_record" "api_wildcard" {
  zone_id = data.aws_route53_zone.this.zone_id
  name    = "*.${var.api_domain}"
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
