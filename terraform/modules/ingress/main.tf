# Internet → ALB (TLS ends here, ACM wildcard) → Kourier's HTTP NodePort on the
# workers. Knative routes by Host, so every function host shares one target
# group; the health check asks Kourier's own envoy whether it is ready (its
# stats listener answers GET /ready for any Host), never a function, which may
# be scaled to zero and would answer a Host-less request with 404.
#
# The released app has one base URL, so <api_domain> itself also answers:
# listener rules route it by path prefix (var.api_routes, rendered from the
# functions' function.yaml) and rewrite the Host to the owning function's host
# before Kourier sees it. Same target group, no extra hop, nothing that runs
# when the app is idle.

data "aws_route53_zone" "this" {
  name         = var.domain
  private_zone = false
}

module "certificate" {
  source = "../dns_certificate"

  domain_name               = "*.${var.api_domain}"
  subject_alternative_names = [var.api_domain]
  zone_id                   = data.aws_route53_zone.this.zone_id
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

# Each rule takes its prefix itself or below its "/"; a longer prefix has the
# lower priority number, so a nested prefix wins over its parent.
resource "aws_lb_listener_rule" "api_path" {
  for_each = var.api_routes

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  condition {
    host_header {
      values = [var.api_domain]
    }
  }

  condition {
    path_pattern {
      values = [each.key, "${each.key}/*"]
    }
  }

  transform {
    type = "host-header-rewrite"

    host_header_rewrite_config {
      rewrite {
        regex   = "^.*$"
        replace = "${each.value.function}.${var.api_domain}"
      }
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.kourier.arn
  }
}

# Any other path on the single host: a problem document, not Kourier's empty 404.
resource "aws_lb_listener_rule" "api_unrouted" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 50000

  condition {
    host_header {
      values = [var.api_domain]
    }
  }

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = jsonencode({
        type   = "about:blank"
        title  = "Not Found"
        status = 404
        detail = "No function serves this path."
      })
    }
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

resource "aws_route53_record" "api" {
  zone_id = data.aws_route53_zone.this.zone_id
  name    = var.api_domain
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
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
