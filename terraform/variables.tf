variable "name" {
  description = "Name of this deployment; prefixes every resource and tags them (eco2:cluster)."
  type        = string
  default     = "eco2"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name: 2-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment label (prod, staging...), part of resource names and SSM paths."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment: 2-12 lowercase letters or digits."
  }
}

variable "region" {
  description = "AWS region of the cluster (the seed ran in ap-northeast-2, Seoul)."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region: an AWS region name such as ap-northeast-2."
  }
}

variable "domain" {
  description = "Apex domain of an existing Route53 public zone; functions answer on <function>.api.<domain>."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain: a lowercase DNS name such as example.org."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; must not overlap the pod (192.168.0.0/16) or service (10.96.0.0/12) ranges."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr: an IPv4 CIDR of /20 or larger."
  }
}

variable "az_count" {
  description = "How many availability zones get a public and a private subnet."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count: 2 or 3 (the ALB needs two)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per AZ (survives an AZ outage)."
  type        = bool
  default     = true
}

variable "control_plane_instance_type" {
  description = "Instance type of the control-plane node (kubeadm needs 2 vCPU and 2 GiB)."
  type        = string
  default     = "t3.medium"
}

variable "worker_instance_type" {
  description = "Instance type of the worker nodes."
  type        = string
  default     = "t3.large"
}

variable "worker_min_size" {
  description = "Minimum number of worker nodes in the Auto Scaling Group."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_min_size >= 1
    error_message = "worker_min_size: at least 1."
  }
}

variable "worker_max_size" {
  description = "Maximum number of worker nodes in the Auto Scaling Group."
  type        = number
  default     = 4

  validation {
    condition     = var.worker_max_size >= 1 && var.worker_max_size <= 20
    error_message = "worker_max_size: 1 to 20."
  }
}

variable "worker_desired_size" {
  description = "Worker nodes to run now (between worker_min_size and worker_max_size)."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_desired_size >= var.worker_min_size && var.worker_desired_size <= var.worker_max_size
    error_message = "worker_desired_size: between worker_min_size and worker_max_size."
  }
}

variable "root_volume_gb" {
  description = "Size of each node's encrypted gp3 root volume, in GiB."
  type        = number
  default     = 40

  validation {
    condition     = var.root_volume_gb >= 20 && var.root_volume_gb <= 500
    error_message = "root_volume_gb: 20 to 500."
  }
}

variable "data_mode" {
  description = "Where PostgreSQL and Redis run: \"managed\" (RDS and ElastiCache) or \"node\" (one EC2 data node that Ansible sets up)."
  type        = string
  default     = "managed"

  validation {
    condition     = contains(["managed", "node"], var.data_mode)
    error_message = "data_mode: \"managed\" or \"node\"."
  }
}

variable "postgres_instance_class" {
  description = "RDS instance class (data_mode = managed)."
  type        = string
  default     = "db.t4g.micro"
}

variable "postgres_version" {
  description = "PostgreSQL major version (RDS picks the latest minor and upgrades it in the maintenance window)."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-7]$", var.postgres_version))
    error_message = "postgres_version: a major version from 14 to 17."
  }
}

variable "postgres_multi_az" {
  description = "Run RDS with a standby in a second AZ (doubles its cost)."
  type        = bool
  default     = false
}

variable "cache_node_type" {
  description = "ElastiCache node type (data_mode = managed)."
  type        = string
  default     = "cache.t4g.micro"
}

variable "data_node_instance_type" {
  description = "Instance type of the data node (data_mode = node)."
  type        = string
  default     = "t3.medium"
}

variable "data_volume_gb" {
  description = "Size of the data node's encrypted data volume for PostgreSQL, in GiB (data_mode = node)."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Protect the ALB and the RDS instance from deletion; set false (and apply) before terraform destroy."
  type        = bool
  default     = true
}

variable "kourier_http_node_port" {
  description = "NodePort of Kourier's HTTP listener (envoy port 8080): the ALB target group's port."
  type        = number
  default     = 31080

  validation {
    condition     = var.kourier_http_node_port >= 30000 && var.kourier_http_node_port <= 32767
    error_message = "kourier_http_node_port: within the NodePort range 30000-32767."
  }
}

variable "kourier_ready_node_port" {
  description = "NodePort of Kourier's readiness port (envoy 9000, GET /ready): the ALB health check's port."
  type        = number
  default     = 31090

  validation {
    condition     = var.kourier_ready_node_port >= 30000 && var.kourier_ready_node_port <= 32767
    error_message = "kourier_ready_node_port: within the NodePort range 30000-32767."
  }
}

variable "alb_idle_timeout" {
  description = "Seconds the ALB keeps an idle connection; above the longest function timeout (chat streams)."
  type        = number
  default     = 120
}

variable "alb_access_logs_bucket" {
  description = "Existing S3 bucket for ALB access logs; null turns them off."
  type        = string
  default     = null
}

variable "app_origins" {
  description = "Browser origins of the app, allowed by the upload bucket's CORS rule to PUT to presigned URLs."
  type        = list(string)

  validation {
    condition     = length(var.app_origins) > 0 && alltrue([for o in var.app_origins : can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$|^http://localhost(:[0-9]+)?$", o))])
    error_message = "app_origins: https:// origins (http:// only for localhost), no path, no wildcard."
  }
}

variable "image_upload_retention_days" {
  description = "Days an uploaded photo lives before the bucket's lifecycle rule deletes it (docs/infrastructure.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.image_upload_retention_days >= 1 && var.image_upload_retention_days <= 30
    error_message = "image_upload_retention_days: 1 to 30."
  }
}

variable "image_upload_prefixes" {
  description = "Key prefixes (upload channels) the image function may write, read the metadata of, and delete."
  type        = list(string)
  default     = ["chat", "scan", "my"]

  validation {
    condition     = alltrue([for p in var.image_upload_prefixes : can(regex("^[a-z]+$", p))])
    error_message = "image_upload_prefixes: lowercase words, without slashes."
  }
}

variable "images_host" {
  description = "Host label of the images CDN: <images_host>.<domain>."
  type        = string
  default     = "images"
}

variable "cloudfront_price_class" {
  description = "CloudFront price class; PriceClass_200 includes the edge locations in Korea."
  type        = string
  default     = "PriceClass_200"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class: PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' JSON log lines and the VPC flow log."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days: a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365)."
  }
}
