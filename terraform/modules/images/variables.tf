variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "domain" {
  description = "Apex domain of the existing Route53 public zone."
  type        = string
}

variable "cdn_host" {
  description = "Public host of the CDN that serves uploaded photos (the image function's cdn_url base)."
  type        = string
}

variable "ssm_prefix" {
  description = "SSM Parameter Store path for the image function's access key."
  type        = string
}

variable "app_origins" {
  description = "Browser origins allowed to PUT to presigned URLs."
  type        = list(string)
}

variable "retention_days" {
  description = "Days before an upload is deleted."
  type        = number
}

variable "upload_prefixes" {
  description = "Key prefixes the image function may use."
  type        = list(string)
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
}
