# Ubuntu 24.04 LTS, Canonical's current image (it carries the SSM agent).
data "aws_ssm_parameter" "ubuntu" {
  name = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
}

locals {
  ami_id = nonsensitive(data.aws_ssm_parameter.ubuntu.value)

  # IMDSv2 only, and one hop: a pod (one hop further, behind its veth) cannot
  # read the node's role credentials. Host-network pods (fluent-bit) still can.
  metadata_options = {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

# --- Node role: SSM (instead of SSH) and the functions' log group ----------

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.name}-node"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.node.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "ShipFunctionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.functions.arn}:*"]
  }
}

resource "aws_iam_role_policy" "logs" {
  name   = "ship-function-logs"
  role   = aws_iam_role.node.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-node"
  role = aws_iam_role.node.name
}

# --- Launch templates ----------------------------------------------------------

resource "aws_launch_template" "node" {
  for_each = {
    control-plane = { type = var.control_plane_instance_type, sgs = [var.node_security_group_id, var.control_plane_sg_id] }
    worker        = { type = var.worker_instance_type, sgs = [var.node_security_group_id] }
  }

  name                   = "${var.name}-${each.key}"
  image_id               = local.ami_id
  instance_type          = each.value.type
  vpc_security_group_ids = each.value.sgs
  ebs_optimized          = true
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.node.arn
  }

  metadata_options {
    http_endpoint               = local.metadata_options.http_endpoint
    http_tokens                 = local.metadata_options.http_tokens
    http_put_response_hop_limit = local.metadata_options.http_put_response_hop_limit
  }

  block_device_mappings {
    device_name = "/dev/sda1"

    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = false
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-${each.key}", "eco2:role" = each.key }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-${each.key}" }
  }
}

resource "aws_instance" "control_plane" {
  #checkov:skip=CKV_AWS_126:Detailed (1-minute) EC2 monitoring costs per instance; node metrics come from node-exporter in the cluster.
  #checkov:skip=CKV_AWS_135:EBS optimisation is set in the launch template (ebs_optimized = true), which checkov does not follow.
  #checkov:skip=CKV_AWS_8:The root volume is encrypted in the launch template, which checkov does not follow.
  #checkov:skip=CKV_AWS_79:IMDSv2 is required in the launch template, which checkov does not follow.
  #checkov:skip=CKV2_AWS_41:The instance profile is set in the launch template, which checkov does not follow.
  subnet_id = var.private_subnet_ids[0]

  launch_template {
    id      = aws_launch_template.node["control-plane"].id
    version = aws_launch_template.node["control-plane"].latest_version
  }

  # A new AMI must not replace the control plane (and its etcd) behind the
  # operator's back: upgrades go through kubeadm.
  lifecycle {
    ignore_changes = [launch_template]
  }

  tags = { Name = "${var.name}-control-plane", "eco2:role" = "control-plane" }
}

resource "aws_autoscaling_group" "workers" {
  name                = "${var.name}-workers"
  min_size            = var.worker_min_size
  max_size            = var.worker_max_size
  desired_capacity    = var.worker_desired_size
  vpc_zone_identifier = var.private_subnet_ids
  target_group_arns   = var.target_group_arns

  # EC2 health, not the ALB's: a new worker fails the Kourier health check
  # until Ansible has joined it to the cluster, and must not be killed for it.
  health_check_type         = "EC2"
  health_check_grace_period = 300

  launch_template {
    id      = aws_launch_template.node["worker"].id
    version = aws_launch_template.node["worker"].latest_version
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-worker"
    propagate_at_launch = true
  }

  tag {
    key                 = "eco2:role"
    value               = "worker"
    propagate_at_launch = true
  }
}

# --- Ansible's file transfer bucket (amazon.aws.aws_ssm connection) ----------
# Files in transit to the nodes live minutes; a day is the shortest expiry.

module "ansible_bucket" {
  source = "../private_bucket"

  name_prefix     = "${var.name}-ansible-"
  expiration_days = 1
}

# --- The functions' JSON log lines ----------------------------------------------

resource "aws_cloudwatch_log_group" "functions" {
  #checkov:skip=CKV_AWS_338:Request logs of photos and chats are kept var.log_retention_days (30 days), not a year: privacy over history.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; a customer KMS key adds cost and a key policy and keeps out no reader we need to keep out.
  name              = "/${var.name}/functions"
  retention_in_days = var.log_retention_days
}

# Saved Logs Insights queries over the runtime's log lines (docs/runtime.md,
# docs/infrastructure.md): fluent-bit merges each JSON line into the event.
# `cold_start` is present (true) only on an instance's first request.
resource "aws_cloudwatch_query_definition" "this" {
  for_each = {
    cold-starts   = <<-EOT
      fields @timestamp, function, route, status, latency_ms, request_id
      | filter msg = "request" and ispresent(cold_start)
      | sort @timestamp desc
    EOT
    start-up      = <<-EOT
      fields @timestamp, function, import_ms, init_ms
      | filter msg = "start"
      | stats count(*) as starts, avg(import_ms) as import_ms, avg(init_ms) as init_ms by function
    EOT
    errors        = <<-EOT
      fields @timestamp, function, route, status, request_id, @message
      | filter status >= 500 or level = "error"
      | sort @timestamp desc
    EOT
    by-request-id = <<-EOT
      fields @timestamp, function, msg, route, status, latency_ms, @message
      | filter request_id = "REPLACE-WITH-REQUEST-ID"
      | sort @timestamp asc
    EOT
  }

  name            = "${var.name}/${each.key}"
  log_group_names = [aws_cloudwatch_log_group.functions.name]
  query_string    = each.value
}
