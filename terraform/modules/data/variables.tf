variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "mode" {
  description = "\"managed\" (RDS and ElastiCache) or \"node\" (an EC2 data node set up by Ansible)."
  type        = string

  validation {
    condition     = contains(["managed", "node"], var.mode)
    error_message = "mode: \"managed\" or \"node\"."
  }
}

variable "ssm_prefix" {
  description = "SSM Parameter Store path under which connection settings and secrets are written for Ansible."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the data services."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the data services."
  type        = list(string)
}

variable "data_security_group_id" {
  description = "Security group that admits the cluster nodes on 5432 and 6379."
  type        = string
}

variable "postgres_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "postgres_version" {
  description = "PostgreSQL major version."
  type        = string
}

variable "postgres_multi_az" {
  description = "RDS standby in a second AZ."
  type        = bool
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "deletion_protection" {
  description = "Protect RDS from deletion and keep a final snapshot."
  type        = bool
}

variable "node_instance_type" {
  description = "Instance type of the data node."
  type        = string
}

variable "node_ami_id" {
  description = "AMI of the data node (the cluster's Ubuntu image)."
  type        = string
}

variable "node_instance_profile" {
  description = "Instance profile of the data node (SSM)."
  type        = string
}

variable "root_volume_gb" {
  description = "Root volume of the data node, in GiB."
  type        = number
}

variable "data_volume_gb" {
  description = "Data volume of the data node, in GiB."
  type        = number
}
