terraform {
  # 1.10: the S3 backend locks with a lock file (use_lockfile in backend.hcl.example).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.19: listener-rule transforms (the Host rewrite of the api_domain's path rules).
      version = "~> 6.19"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: bucket, key, region and locking come from
  # `terraform init -backend-config=backend.hcl` (see backend.hcl.example),
  # so no account's bucket name is written into the code.
  backend "s3" {}
}
