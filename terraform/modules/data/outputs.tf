output "postgres_host" {
  description = "PostgreSQL endpoint (RDS address or the data node's private IP)."
  value       = local.postgres_host
}

output "redis_host" {
  description = "Redis endpoint (ElastiCache primary or the data node's private IP)."
  value       = local.redis_host
}

output "data_volume_id" {
  description = "EBS volume that holds PostgreSQL on the data node (null when managed)."
  value       = local.managed ? null : aws_ebs_volume.data[0].id
}
