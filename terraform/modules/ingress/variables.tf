variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "domain" {
  description = "Apex domain of the existing Route53 public zone."
  type        = string
}

variable "api_domain" {
  description = "Domain under which each function has its host (<function>.<api_domain>)."
  type        = string
}

variable "api_routes" {
  description = "Path prefix -> the function whose host (<function>.<api_domain>) <api_domain> routes it to, and the rule's priority."
  type = map(object({
    function = string
    priority = number
  }))
}

variable "vpc_id" {
  description = "VPC of the target group."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the ALB (two AZs at least)."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the ALB."
  type        = string
}

variable "kourier_http_node_port" {
  description = "Kourier's HTTP NodePort: where the ALB sends requests."
  type        = number
}

variable "kourier_ready_node_port" {
  description = "Kourier's readiness NodePort: where the ALB health-checks GET /ready."
  type        = number
}

variable "idle_timeout" {
  description = "ALB idle timeout in seconds."
  type        = number
}

variable "deletion_protection" {
  description = "Protect the ALB from deletion."
  type        = bool
}

variable "access_logs_bucket" {
  description = "Existing bucket for ALB access logs, or null."
  type        = string
}
