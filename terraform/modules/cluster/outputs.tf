output "ami_id" {
  description = "Ubuntu 24.04 AMI the nodes run."
  value       = local.ami_id
}

output "instance_profile_name" {
  description = "Instance profile of the nodes (SSM and log shipping)."
  value       = aws_iam_instance_profile.node.name
}

output "control_plane_instance_id" {
  description = "Instance ID of the control-plane node (the SSM target)."
  value       = aws_instance.control_plane.id
}

output "control_plane_private_ip" {
  description = "Private address of the control plane: the API server endpoint the workers join."
  value       = aws_instance.control_plane.private_ip
}

output "worker_asg_name" {
  description = "Name of the worker Auto Scaling Group."
  value       = aws_autoscaling_group.workers.name
}

output "ansible_bucket" {
  description = "Bucket the amazon.aws.aws_ssm connection uses to move files to the nodes."
  value       = module.ansible_bucket.id
}

output "functions_log_group" {
  description = "CloudWatch log group that fluent-bit ships the functions' log lines to."
  value       = aws_cloudwatch_log_group.functions.name
}
