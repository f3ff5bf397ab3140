variable "name_prefix" {
  description = "Prefix of the bucket's name (S3 appends a unique suffix)."
  type        = string
}

variable "expiration_days" {
  description = "Days after which every object is deleted."
  type        = number

  validation {
    condition     = var.expiration_days >= 1
    error_message = "expiration_days: at least 1."
  }
}

variable "policy_documents" {
  description = "Further bucket policy documents (JSON) merged with the deny-plain-HTTP statement."
  type        = list(string)
  default     = []
}
