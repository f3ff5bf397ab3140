# PostgreSQL and Redis, managed (RDS, ElastiCache: the default) or on one EC2
# data node. Either way Ansible finds the connection settings under
# <ssm_prefix>/postgres/* and <ssm_prefix>/redis/*, so the cluster side does not
# care which. The passwords are generated here, so they are in the Terraform
# state: keep the state bucket encrypted and readable by operators only.

locals {
  managed = var.mode == "managed"
  db_name = "eco2"
  db_user = "eco2"
}

resource "random_password" "postgres" {
  length  = 32
  special = false
}

resource "random_password" "redis" {
  length  = 48
  special = false
}

# --- Managed: RDS PostgreSQL ---------------------------------------------------

resource "aws_db_subnet_group" "this" {
  count = local.managed ? 1 : 0

  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_parameter_group" "this" {
  count = local.managed ? 1 : 0

  name   = "${var.name}-pg${var.postgres_version}"
  family = "postgres${var.postgres_version}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_157:Multi-AZ is var.postgres_multi_az, off by default: a standby doubles the cost of the largest data item, and RDS restores from its backups.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs its own role and costs CloudWatch ingestion; the basic RDS metrics cover a db.t4g.micro.
  #checkov:skip=CKV_AWS_353:Performance Insights is not offered on the micro instance classes this defaults to.
  #checkov:skip=CKV_AWS_161:The functions authenticate through PgBouncer with a password; IAM tokens expire every 15 minutes, which PgBouncer cannot renew.
  count = local.managed ? 1 : 0

  identifier     = var.name
  engine         = "postgres"
  engine_version = var.postgres_version
  instance_class = var.postgres_instance_class
  multi_az       = var.postgres_multi_az

  db_name  = local.db_name
  username = local.db_user
  password = random_password.postgres.result

  allocated_storage     = 20
  max_allocated_storage = 100
  storage_type          = "gp3"
  storage_encrypted     = true

  db_subnet_group_name   = aws_db_subnet_group.this[0].name
  vpc_security_group_ids = [var.data_security_group_id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this[0].name

  backup_retention_period         = 7
  copy_tags_to_snapshot           = true
  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = !var.deletion_protection
  final_snapshot_identifier       = "${var.name}-final"
}

# --- Managed: ElastiCache (Valkey, Redis-compatible) -----------------------------

resource "aws_elasticache_subnet_group" "this" {
  count = local.managed ? 1 : 0

  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_191:Encrypted at rest with the service key; a customer KMS key adds cost for no reader we need to keep out.
  #checkov:skip=CKV2_AWS_50:One node, no automatic failover: the cache holds OAuth state, rate limits and caches, rebuilt after a node replacement (the token denylist is the exception, see docs/infrastructure.md).
  count = local.managed ? 1 : 0

  replication_group_id = var.name
  description          = "eco2 token denylist, OAuth state, rate limits and caches"
  engine               = "valkey"
  engine_version       = "8.0"
  node_type            = var.cache_node_type
  num_cache_clusters   = 1
  port                 = 6379

  subnet_group_name  = aws_elasticache_subnet_group.this[0].name
  security_group_ids = [var.data_security_group_id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  # Provider 6 has no default here; ROTATE was provider 5's (a new token is
  # added beside the old one, so clients holding the old one keep working).
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = 1
  auto_minor_version_upgrade = true
  apply_immediately          = false
}

# --- Node: one EC2 instance with PostgreSQL and Redis (Ansible role data_node) -----

resource "aws_instance" "data" {
  #checkov:skip=CKV_AWS_126:Detailed (1-minute) EC2 monitoring costs per instance; node-exporter covers the node.
  count = local.managed ? 0 : 1

  ami                    = var.node_ami_id
  instance_type          = var.node_instance_type
  subnet_id              = var.private_subnet_ids[0]
  vpc_security_group_ids = [var.data_security_group_id]
  iam_instance_profile   = var.node_instance_profile
  ebs_optimized          = true
  monitoring             = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_size           = var.root_volume_gb
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  lifecycle {
    ignore_changes = [ami]
  }

  tags = { Name = "${var.name}-data", "eco2:role" = "data" }
}

resource "aws_ebs_volume" "data" {
  #checkov:skip=CKV_AWS_189:Encrypted with the account's default EBS key; a customer KMS key adds cost for no reader we need to keep out.
  count = local.managed ? 0 : 1

  availability_zone = aws_instance.data[0].availability_zone
  size              = var.data_volume_gb
  type              = "gp3"
  encrypted         = true

  tags = { Name = "${var.name}-data-postgres" }
}

resource "aws_volume_attachment" "data" {
  count = local.managed ? 0 : 1

  # Appears as an NVMe device on Nitro instances; Ansible finds it by volume id.
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data[0].id
  instance_id = aws_instance.data[0].id
}

# --- Connection settings for Ansible ----------------------------------------------

locals {
  postgres_host = local.managed ? aws_db_instance.this[0].address : aws_instance.data[0].private_ip
  redis_host    = local.managed ? aws_elasticache_replication_group.this[0].primary_endpoint_address : aws_instance.data[0].private_ip

  settings = {
    "postgres/host"     = local.postgres_host
    "postgres/port"     = "5432"
    "postgres/database" = local.db_name
    "postgres/user"     = local.db_user
    "redis/host"        = local.redis_host
    "redis/port"        = "6379"
    # ElastiCache with transit encryption speaks TLS only; the data node's Redis does not.
    "redis/tls" = local.managed ? "true" : "false"
  }
}

resource "aws_ssm_parameter" "setting" {
  #checkov:skip=CKV2_AWS_34:Host names and ports, not secrets; the passwords are SecureStrings below.
  for_each = local.settings

  name  = "${var.ssm_prefix}/${each.key}"
  type  = "String"
  value = each.value
}

resource "aws_ssm_parameter" "secret" {
  #checkov:skip=CKV_AWS_337:SecureString with the account's aws/ssm key; a customer key would add a key policy to keep in step with the operators' roles.
  for_each = {
    "postgres/password" = random_password.postgres.result
    "redis/password"    = random_password.redis.result
  }

  name  = "${var.ssm_prefix}/${each.key}"
  type  = "SecureString"
  value = each.value
}
