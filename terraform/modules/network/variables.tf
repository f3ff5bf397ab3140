variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "cidr" {
  description = "CIDR of the VPC."
  type        = string
}

variable "azs" {
  description = "Availability zones, one public and one private subnet in each."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3
    error_message = "azs: two or three zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by every private subnet instead of one per AZ."
  type        = bool
}

variable "log_retention_days" {
  description = "Days the VPC flow log (rejected traffic) is kept."
  type        = number
}
