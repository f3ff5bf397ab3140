output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}

output "api_domain" {
  description = "Functions answer on <function>.<api_domain>."
  value       = local.api_domain
}

output "api_base_url" {
  description = "The single base URL (the app's VITE_API_BASE_URL): routed by path to each function's host."
  value       = "https://${local.api_domain}"
}

output "alb_dns_name" {
  description = "DNS name of the ALB (the alias target of api_domain and its wildcard)."
  value       = module.ingress.alb_dns_name
}

output "control_plane_instance_id" {
  description = "SSM target of the control plane (aws ssm start-session --target ...)."
  value       = module.cluster.control_plane_instance_id
}

output "worker_asg_name" {
  description = "Worker Auto Scaling Group."
  value       = module.cluster.worker_asg_name
}

output "images_bucket" {
  description = "Upload bucket of the image function."
  value       = module.images.bucket
}

output "images_cdn_base_url" {
  description = "Base URL the image function puts in cdn_url and scan/chat allow."
  value       = module.images.cdn_base_url
}

output "functions_log_group" {
  description = "CloudWatch log group of the functions' JSON lines."
  value       = module.cluster.functions_log_group
}

output "ssm_prefix" {
  description = "SSM path holding the data services' settings and the secrets Ansible turns into Kubernetes Secrets."
  value       = local.ssm_prefix
}

# `terraform output -raw ansible_inventory > ../ansible/inventory/eco2.aws_ec2.yml`:
# a dynamic inventory (amazon.aws.aws_ec2) that finds this deployment's nodes
# by tag and reaches them through SSM, so it follows the worker ASG by itself.
output "ansible_inventory" {
  description = "amazon.aws.aws_ec2 inventory configuration for this deployment (YAML)."
  value = yamlencode({
    plugin    = "amazon.aws.aws_ec2"
    regions   = [var.region]
    hostnames = ["instance-id"]
    filters = {
      "tag:eco2:cluster"    = local.prefix
      "instance-state-name" = "running"
    }
    groups = {
      control_plane = "tags['eco2:role'] == 'control-plane'"
      workers       = "tags['eco2:role'] == 'worker'"
      data          = "tags['eco2:role'] == 'data'"
    }
    compose = {
      ansible_host                = "instance_id"
      ansible_connection          = "'amazon.aws.aws_ssm'"
      ansible_aws_ssm_region      = "'${var.region}'"
      ansible_aws_ssm_bucket_name = "'${module.cluster.ansible_bucket}'"
      node_private_ip             = "private_ip_address"
    }
  })
}

# `terraform output -raw ansible_vars > ../ansible/inventory/group_vars/all/terraform.yml`
output "ansible_vars" {
  description = "Variables the Ansible roles take from this deployment (YAML); no secrets, those stay in SSM."
  value = yamlencode({
    eco2_region                  = var.region
    eco2_ssm_prefix              = local.ssm_prefix
    eco2_domain                  = var.domain
    eco2_api_domain              = local.api_domain
    eco2_app_origins             = var.app_origins
    eco2_data_mode               = var.data_mode
    eco2_data_volume_id          = module.data.data_volume_id
    eco2_control_plane_ip        = module.cluster.control_plane_private_ip
    eco2_functions_log_group     = module.cluster.functions_log_group
    eco2_images_bucket           = module.images.bucket
    eco2_images_cdn_base_url     = module.images.cdn_base_url
    eco2_kourier_http_node_port  = var.kourier_http_node_port
    eco2_kourier_ready_node_port = var.kourier_ready_node_port
    eco2_vpc_cidr                = var.vpc_cidr
  })
}
