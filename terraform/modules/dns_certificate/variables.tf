variable "domain_name" {
  description = "Name the certificate covers (a wildcard such as *.api.example.org is allowed)."
  type        = string
}

variable "subject_alternative_names" {
  description = "Further names the certificate covers."
  type        = list(string)
  default     = []
}

variable "zone_id" {
  description = "Route53 public zone that holds the DNS validation records."
  type        = string
}
