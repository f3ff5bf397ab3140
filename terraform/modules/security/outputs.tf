output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.alb.id
}

output "node_security_group_id" {
  description = "Security group of every cluster node."
  value       = aws_security_group.node.id
}

output "control_plane_security_group_id" {
  description = "Extra security group of the control-plane node (API server)."
  value       = aws_security_group.control_plane.id
}

output "data_security_group_id" {
  description = "Security group of PostgreSQL and Redis."
  value       = aws_security_group.data.id
}
