variable "name" {
  description = "Prefix of resource names; also the eco2:cluster tag the Ansible inventory filters on."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the nodes; the control plane goes in the first."
  type        = list(string)
}

variable "node_security_group_id" {
  description = "Security group of every cluster node."
  type        = string
}

variable "control_plane_sg_id" {
  description = "Extra security group of the control-plane node."
  type        = string
}

variable "control_plane_instance_type" {
  description = "Instance type of the control-plane node."
  type        = string
}

variable "worker_instance_type" {
  description = "Instance type of the worker nodes."
  type        = string
}

variable "worker_min_size" {
  description = "Minimum size of the worker Auto Scaling Group."
  type        = number
}

variable "worker_max_size" {
  description = "Maximum size of the worker Auto Scaling Group."
  type        = number
}

variable "worker_desired_size" {
  description = "Desired size of the worker Auto Scaling Group."
  type        = number
}

variable "root_volume_gb" {
  description = "Size of each node's encrypted root volume, in GiB."
  type        = number
}

variable "target_group_arns" {
  description = "Target groups the workers register with (the ALB's Kourier target group)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' log lines."
  type        = number
}
