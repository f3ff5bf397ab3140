variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "vpc_id" {
  description = "VPC the security groups belong to."
  type        = string
}

variable "kourier_http_node_port" {
  description = "Kourier's HTTP NodePort, the only port the ALB forwards to."
  type        = number
}

variable "kourier_ready_node_port" {
  description = "Kourier's readiness NodePort, which the ALB health-checks."
  type        = number
}

variable "data_node" {
  description = "True when PostgreSQL and Redis run on an EC2 data node, which needs outbound HTTPS for packages and SSM."
  type        = bool
}
