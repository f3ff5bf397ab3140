output "target_group_arn" {
  description = "Target group of the workers (Kourier HTTP NodePort)."
  value       = aws_lb_target_group.kourier.arn
}

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route53 zone of the domain."
  value       = data.aws_route53_zone.this.zone_id
}
