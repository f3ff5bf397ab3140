locals {
  prefix     = "${var.name}-${var.environment}"
  api_domain = "api.${var.domain}"
  ssm_prefix = "/${var.name}/${var.environment}"

  tags = {
    "eco2:cluster" = local.prefix
    "managed-by"   = "terraform"
  }
}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first az_count names are used; AWS adds zones at the end of the sorted list, so the slice does not move.
  state = "available"

  # Regular zones only, not Local Zones or Wavelength zones.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

module "network" {
  source = "./modules/network"

  name               = local.prefix
  cidr               = var.vpc_cidr
  azs                = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  single_nat_gateway = var.single_nat_gateway
  log_retention_days = var.log_retention_days
}

module "security" {
  source = "./modules/security"

  name                    = local.prefix
  vpc_id                  = module.network.vpc_id
  kourier_http_node_port  = var.kourier_http_node_port
  kourier_ready_node_port = var.kourier_ready_node_port
  data_node               = var.data_mode == "node"
}

module "ingress" {
  source = "./modules/ingress"

  name                    = local.prefix
  domain                  = var.domain
  api_domain              = local.api_domain
  api_routes              = local.api_routes # api_routes.tf.json, rendered by `eco2 render`
  vpc_id                  = module.network.vpc_id
  public_subnet_ids       = module.network.public_subnet_ids
  alb_security_group_id   = module.security.alb_security_group_id
  kourier_http_node_port  = var.kourier_http_node_port
  kourier_ready_node_port = var.kourier_ready_node_port
  idle_timeout            = var.alb_idle_timeout
  deletion_protection     = var.deletion_protection
  access_logs_bucket      = var.alb_access_logs_bucket
}

module "cluster" {
  source = "./modules/cluster"

  name                        = local.prefix
  private_subnet_ids          = module.network.private_subnet_ids
  node_security_group_id      = module.security.node_security_group_id
  control_plane_sg_id         = module.security.control_plane_security_group_id
  control_plane_instance_type = var.control_plane_instance_type
  worker_instance_type        = var.worker_instance_type
  worker_min_size             = var.worker_min_size
  worker_max_size             = var.worker_max_size
  worker_desired_size         = var.worker_desired_size
  root_volume_gb              = var.root_volume_gb
  target_group_arns           = [module.ingress.target_group_arn]
  log_retention_days          = var.log_retention_days
}

module "data" {
  source = "./modules/data"

  name                    = local.prefix
  mode                    = var.data_mode
  ssm_prefix              = local.ssm_prefix
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  data_security_group_id  = module.security.data_security_group_id
  postgres_instance_class = var.postgres_instance_class
  postgres_version        = var.postgres_version
  postgres_multi_az       = var.postgres_multi_az
  cache_node_type         = var.cache_node_type
  deletion_protection     = var.deletion_protection
  node_instance_type      = var.data_node_instance_type
  node_ami_id             = module.cluster.ami_id
  node_instance_profile   = module.cluster.instance_profile_name
  root_volume_gb          = var.root_volume_gb
  data_volume_gb          = var.data_volume_gb
}

module "images" {
  source = "./modules/images"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name            = local.prefix
  domain          = var.domain
  cdn_host        = "${var.images_host}.${var.domain}"
  ssm_prefix      = local.ssm_prefix
  app_origins     = var.app_origins
  retention_days  = var.image_upload_retention_days
  upload_prefixes = var.image_upload_prefixes
  price_class     = var.cloudfront_price_class
}
