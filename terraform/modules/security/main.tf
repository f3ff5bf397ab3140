# Four groups, each rule one port from one source (no "self: all traffic" as in
# the seed):
#   alb            443 (and 80, which only redirects) from the internet
#   node           every cluster node: Calico VXLAN and Typha, kubelet,
#                  node-exporter from other nodes; Kourier's two NodePorts from the ALB
#   control_plane  the API server (6443) from the nodes only; operators reach it
#                  through an SSM port forward, never from the internet
#   data           PostgreSQL and Redis from the nodes only
# SSH is not opened at all: nodes are managed through SSM Session Manager.

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules (ingress, cluster, data) through this module's outputs, which checkov does not follow.
  name        = "${var.name}-alb"
  description = "eco2 ALB: HTTPS from the internet, HTTP only to redirect to HTTPS"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-alb" }
}

resource "aws_security_group" "node" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules (ingress, cluster, data) through this module's outputs, which checkov does not follow.
  name        = "${var.name}-node"
  description = "eco2 cluster nodes: CNI and kubelet between nodes, Kourier NodePorts from the ALB"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-node" }
}

resource "aws_security_group" "control_plane" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules (ingress, cluster, data) through this module's outputs, which checkov does not follow.
  name        = "${var.name}-control-plane"
  description = "eco2 control plane: the Kubernetes API from cluster nodes"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-control-plane" }
}

resource "aws_security_group" "data" {
  #checkov:skip=CKV2_AWS_5:Attached in other modules (ingress, cluster, data) through this module's outputs, which checkov does not follow.
  name        = "${var.name}-data"
  description = "eco2 PostgreSQL and Redis: from cluster nodes only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-data" }
}

# --- ALB -------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_redirect" {
  #checkov:skip=CKV_AWS_260:Port 80 reaches only the ALB's redirect-to-HTTPS listener (no forward action), which tests/infra checks.
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet, answered by the ALB with a redirect to HTTPS"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_kourier" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Kourier HTTP NodePort"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = var.kourier_http_node_port
  to_port                      = var.kourier_http_node_port
}

resource "aws_vpc_security_group_egress_rule" "alb_to_kourier_ready" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Kourier readiness NodePort (health check)"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = var.kourier_ready_node_port
  to_port                      = var.kourier_ready_node_port
}

# --- Nodes -----------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "node_from_alb" {
  for_each = {
    http  = var.kourier_http_node_port
    ready = var.kourier_ready_node_port
  }

  security_group_id            = aws_security_group.node.id
  description                  = "Kourier ${each.key} NodePort from the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

locals {
  # Node-to-node traffic. Pod-to-pod traffic travels inside VXLAN (UDP 4789);
  # a pod reaching another node's host port is SNATed to its node's address by
  # Calico's natOutgoing, so it arrives from this group too.
  node_to_node = {
    vxlan         = { protocol = "udp", port = 4789, what = "Calico VXLAN" }
    typha         = { protocol = "tcp", port = 5473, what = "Calico Typha" }
    kubelet       = { protocol = "tcp", port = 10250, what = "kubelet API (logs, exec, metrics)" }
    node_exporter = { protocol = "tcp", port = 9100, what = "node-exporter scraped by Prometheus" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "node_from_node" {
  for_each = local.node_to_node

  security_group_id            = aws_security_group.node.id
  description                  = each.value.what
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "node_to_node" {
  for_each = local.node_to_node

  security_group_id            = aws_security_group.node.id
  description                  = each.value.what
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "node_to_api" {
  security_group_id            = aws_security_group.node.id
  description                  = "Kubernetes API server"
  referenced_security_group_id = aws_security_group.control_plane.id
  ip_protocol                  = "tcp"
  from_port                    = 6443
  to_port                      = 6443
}

resource "aws_vpc_security_group_egress_rule" "node_to_data" {
  for_each = { postgres = 5432, redis = 6379 }

  security_group_id            = aws_security_group.node.id
  description                  = "${each.key} (PgBouncer and the functions)"
  referenced_security_group_id = aws_security_group.data.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

# Outbound through NAT: image registries, package repositories, Helm charts,
# the SSM and CloudWatch endpoints, OAuth providers and the OpenAI API.
resource "aws_vpc_security_group_egress_rule" "node_to_internet" {
  for_each = { https = 443, http = 80 }

  security_group_id = aws_security_group.node.id
  description       = "Outbound ${each.key} through NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
}

# --- Control plane -----------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "api_from_nodes" {
  security_group_id            = aws_security_group.control_plane.id
  description                  = "Kubernetes API from cluster nodes"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = 6443
  to_port                      = 6443
}

# --- Data ------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "data_from_nodes" {
  for_each = { postgres = 5432, redis = 6379 }

  security_group_id            = aws_security_group.data.id
  description                  = "${each.key} from cluster nodes"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

resource "aws_vpc_security_group_egress_rule" "data_node_to_internet" {
  for_each = var.data_node ? { https = 443, http = 80 } : {}

  security_group_id = aws_security_group.data.id
  description       = "Data node: packages and SSM over ${each.key} through NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
}
