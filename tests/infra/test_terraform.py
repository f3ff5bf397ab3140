"""What terraform/ must guarantee, read from the .tf files with python-hcl2."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.infra import hcl
from tests.infra.tools import ROOT, terraform

WORLD = {"0.0.0.0/0", "::/0"}
NODE_PORTS = range(30000, 32768)


def expand(key: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """A rule body once per for_each item, with each.key / each.value[.attr] filled in."""
    if "for_each" not in body:
        return [body]
    items = hcl.resolve(key, body["for_each"])
    assert isinstance(items, dict), f"{key}: cannot expand for_each {items!r}"
    expanded = []
    for item_key, item in items.items():
        def fill(value: Any) -> Any:
            if value == "${each.value}":
                return item
            if isinstance(value, str) and (attr := re.fullmatch(r"\$\{each\.value\.([a-z_]+)\}", value)):
                return item[attr.group(1)]
            if isinstance(value, str):
                return value.replace("${each.key}", item_key)
            return value

        expanded.append({k: fill(v) for k, v in body.items() if k != "for_each"})
    return expanded


def ingress_rules() -> list[tuple[str, dict[str, Any]]]:
    """Every ingress rule in every module, in the one shape of aws_vpc_security_group_ingress_rule."""
    rules = []
    for key, mod in hcl.modules().items():
        for name, body in mod.resources("aws_vpc_security_group_ingress_rule").items():
            rules.extend((f"{key}:{name}", rule) for rule in expand(key, body))
        for name, body in mod.resources("aws_security_group_rule").items():
            if body.get("type") == "ingress":
                for cidr in body.get("cidr_blocks", []) + body.get("ipv6_cidr_blocks", []):
                    rules.append((f"{key}:{name}", {**body, "cidr_ipv4": cidr}))
        for name, body in mod.resources("aws_security_group").items():
            for rule in body.get("ingress", []):
                for cidr in rule.get("cidr_blocks", []) + rule.get("ipv6_cidr_blocks", []):
                    rules.append((f"{key}:{name}", {**rule, "cidr_ipv4": cidr}))
    return rules


def ports(key: str, rule: dict[str, Any]) -> range:
    if rule.get("ip_protocol", rule.get("protocol")) in ("-1", "all", -1):
        return range(0, 65536)
    low = int(hcl.resolve(key.split(":")[0], rule["from_port"]))
    high = int(hcl.resolve(key.split(":")[0], rule["to_port"]))
    return range(low, high + 1)


def world_open(rule: dict[str, Any]) -> bool:
    return rule.get("cidr_ipv4") in WORLD or rule.get("cidr_ipv6") in WORLD


def test_the_tree_parses_into_a_root_and_its_modules() -> None:
    assert set(hcl.modules()) == {
        "",
        "modules/network",
        "modules/security",
        "modules/cluster",
        "modules/data",
        "modules/ingress",
        "modules/images",
        "modules/private_bucket",
        "modules/dns_certificate",
    }
    called = {body["source"] for body in hcl.root().named("module").values()}
    assert called == {f"./modules/{name}" for name in ("network", "security", "cluster", "data", "ingress", "images")}


def test_every_variable_has_a_description_and_a_type() -> None:
    missing = [
        f"{key or 'root'}: var.{name} lacks {attr}"
        for key, mod in hcl.modules().items()
        for name, body in mod.named("variable").items()
        for attr in ("description", "type")
        if not str(body.get(attr, "")).strip()
    ]
    assert not missing, "\n".join(missing)


def test_root_inputs_are_validated() -> None:
    variables = hcl.root().named("variable")
    validated = {name for name, body in variables.items() if body.get("validation")}
    # Free-form on purpose: instance types and classes change faster than a regex.
    unvalidated = set(variables) - validated
    assert unvalidated <= {
        "single_nat_gateway",
        "control_plane_instance_type",
        "worker_instance_type",
        "postgres_instance_class",
        "postgres_multi_az",
        "cache_node_type",
        "data_node_instance_type",
        "data_volume_gb",
        "deletion_protection",
        "alb_idle_timeout",
        "alb_access_logs_bucket",
        "images_host",
    }, f"validate these inputs: {sorted(unvalidated)}"


def test_state_backend_is_s3_configured_at_init_not_in_code() -> None:
    (settings,) = hcl.root().blocks["terraform"]
    (backend,) = settings["backend"]
    assert backend == {"s3": {}}, "the backend's bucket/key/region belong in backend.hcl, not the code"
    example = (hcl.TERRAFORM / "backend.hcl.example").read_text()
    assert "use_lockfile = true" in example and "encrypt      = true" in example


def test_alb_health_check_asks_kourier_readiness_not_a_function() -> None:
    ingress = hcl.module("ingress")
    (group,) = ingress.resources("aws_lb_target_group").values()
    check = hcl.block(group, "health_check")
    assert hcl.resolve("modules/ingress", group["port"]) == 31080, "traffic goes to Kourier's HTTP NodePort"
    assert group["protocol"] == "HTTP" and group["target_type"] == "instance"
    assert hcl.resolve("modules/ingress", check["port"]) == 31090, "health check on Kourier's readiness NodePort"
    assert check["path"] == "/ready" and check["protocol"] == "HTTP" and check["matcher"] == "200"


def test_https_listener_uses_the_wildcard_certificate_and_tls_1_2_or_later() -> None:
    ingress = hcl.module("ingress")
    listeners = ingress.resources("aws_lb_listener")
    https = next(body for body in listeners.values() if body["port"] == 443)
    assert https["protocol"] == "HTTPS"
    assert "TLS13-1-2" in https["ssl_policy"]
    assert https["certificate_arn"] == "${module.certificate.certificate_arn}"
    certificate = ingress.named("module")["certificate"]
    assert certificate["source"] == "../dns_certificate" and certificate["domain_name"] == "*.${var.api_domain}"
    record = ingress.resources("aws_route53_record")["api_wildcard"]
    assert record["name"] == "*.${var.api_domain}" and hcl.block(record, "alias")


def test_port_80_only_redirects_to_https() -> None:
    listeners = hcl.module("ingress").resources("aws_lb_listener")
    plain = [body for body in listeners.values() if body["port"] == 80]
    assert len(plain) == 1
    action = hcl.block(plain[0], "default_action")
    assert action["type"] == "redirect" and "target_group_arn" not in action
    assert hcl.block(action, "redirect")["protocol"] == "HTTPS"


def test_nothing_is_open_to_the_world_but_the_alb_on_443_and_80() -> None:
    open_ = [(key, rule) for key, rule in ingress_rules() if world_open(rule)]
    assert open_, "the ALB must be reachable"
    for key, rule in open_:
        covered = ports(key, rule)
        assert 22 not in covered and 6443 not in covered, f"{key} opens SSH or the API server to the world"
        assert rule["security_group_id"] == "${aws_security_group.alb.id}", f"{key}: only the ALB faces the world"
        assert set(covered) <= {80, 443}, f"{key} opens {covered} to the world"


def test_ssh_is_not_opened_from_anywhere() -> None:
    assert not [key for key, rule in ingress_rules() if 22 in ports(key, rule)]


def test_kourier_node_ports_admit_only_the_alb() -> None:
    node_port_rules = [
        (key, rule) for key, rule in ingress_rules() if set(ports(key, rule)) & set(NODE_PORTS)
    ]
    assert {hcl.resolve("modules/security", rule["from_port"]) for _, rule in node_port_rules} == {31080, 31090}
    for key, rule in node_port_rules:
        assert rule.get("referenced_security_group_id") == "${aws_security_group.alb.id}", key
        assert len(ports(key, rule)) == 1, f"{key}: one port, not a NodePort range"


def test_every_bucket_blocks_public_access() -> None:
    for key, mod in hcl.modules().items():
        blocks = {body["bucket"]: body for body in mod.resources("aws_s3_bucket_public_access_block").values()}
        for name in mod.resources("aws_s3_bucket"):
            guard = blocks.get(f"${{aws_s3_bucket.{name}.id}}")
            assert guard, f"{key}: aws_s3_bucket.{name} has no public access block"
            for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
                assert guard[flag] is True, f"{key}: aws_s3_bucket.{name}: {flag} is not true"


def test_every_bucket_expires_what_it_holds_and_denies_plain_http() -> None:
    for key, mod in hcl.modules().items():
        lifecycles = {body["bucket"]: body for body in mod.resources("aws_s3_bucket_lifecycle_configuration").values()}
        for name in mod.resources("aws_s3_bucket"):
            rule = hcl.block(lifecycles[f"${{aws_s3_bucket.{name}.id}}"], "rule")
            assert rule["status"] == "Enabled" and rule["filter"] == [{}], f"{key}: {name} expiry covers every object"
            assert hcl.block(rule, "expiration")["days"]
        policies = mod.typed("data").get("aws_iam_policy_document", {})
        for name in mod.resources("aws_s3_bucket"):
            denies = [
                statement
                for policy in policies.values()
                for statement in policy.get("statement", [])
                if statement.get("effect") == "Deny"
                and f"aws_s3_bucket.{name}.arn" in str(statement["resources"])
                and hcl.block(statement, "condition")["variable"] == "aws:SecureTransport"
            ]
            assert denies, f"{key}: {name} accepts plain HTTP"


def test_uploads_are_deleted_after_one_day_by_default() -> None:
    (lifecycle,) = hcl.module("private_bucket").resources("aws_s3_bucket_lifecycle_configuration").values()
    days = hcl.block(hcl.block(lifecycle, "rule"), "expiration")["days"]
    assert days == "${var.expiration_days}"
    uploads = hcl.module("images").named("module")["uploads"]
    assert uploads["source"] == "../private_bucket"
    assert hcl.resolve("modules/images", uploads["expiration_days"]) == 1
    assert hcl.module("cluster").named("module")["ansible_bucket"]["expiration_days"] == 1
    assert hcl.root().named("variable")["image_upload_retention_days"]["validation"]


def test_upload_cors_lets_the_app_put_and_read_the_etag() -> None:
    (cors,) = hcl.module("images").resources("aws_s3_bucket_cors_configuration").values()
    rule = hcl.block(cors, "cors_rule")
    assert rule["allowed_methods"] == ["PUT"]
    assert rule["allowed_origins"] == "${var.app_origins}" and "*" not in str(rule["allowed_origins"])
    assert "ETag" in rule["expose_headers"]


def test_image_function_may_put_head_and_delete_under_its_prefixes_only() -> None:
    images = hcl.module("images")
    policy = images.typed("data")["aws_iam_policy_document"]["image_function"]
    (statement,) = policy["statement"]
    assert statement.get("effect", "Allow") == "Allow"
    # HeadObject is authorised by s3:GetObject: IAM has no s3:HeadObject action.
    assert sorted(statement["actions"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert statement["resources"] == '${[for p in var.upload_prefixes : "${module.uploads.arn}/${p}/*"]}'
    assert hcl.resolve("modules/images", "${var.upload_prefixes}") == ["chat", "scan", "my"]
    # The only grant the user has: one group, one inline policy built from that document.
    (group_policy,) = images.resources("aws_iam_group_policy").values()
    assert group_policy["policy"] == "${data.aws_iam_policy_document.image_function.json}"
    for kind in ("aws_iam_user_policy", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"):
        assert not images.resources(kind), f"{kind} would widen the image function's grant"


def test_cloudfront_reads_the_bucket_through_origin_access_control_only() -> None:
    images = hcl.module("images")
    (distribution,) = images.resources("aws_cloudfront_distribution").values()
    origin = hcl.block(distribution, "origin")
    assert origin["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.uploads.id}"
    assert hcl.block(distribution, "default_cache_behavior")["viewer_protocol_policy"] == "redirect-to-https"
    assert origin["domain_name"] == "${module.uploads.regional_domain_name}"
    assert images.named("module")["uploads"]["policy_documents"] == [
        "${data.aws_iam_policy_document.cloudfront_read.json}"
    ]
    (read,) = images.typed("data")["aws_iam_policy_document"]["cloudfront_read"]["statement"]
    assert read["actions"] == ["s3:GetObject"] and read["resources"] == ["${module.uploads.arn}/*"]
    assert hcl.block(read, "principals")["identifiers"] == ["cloudfront.amazonaws.com"]
    assert hcl.block(read, "condition")["values"] == ["${aws_cloudfront_distribution.uploads.arn}"]


def test_imdsv2_is_required_on_every_instance() -> None:
    for key, mod in hcl.modules().items():
        templates = mod.resources("aws_launch_template")
        for name, body in templates.items():
            tokens = hcl.resolve(key, hcl.block(body, "metadata_options")["http_tokens"])
            assert tokens == "required", f"{key}: launch template {name}"
            assert hcl.resolve(key, hcl.block(body, "metadata_options")["http_put_response_hop_limit"]) == 1
        for name, body in mod.resources("aws_instance").items():
            if "launch_template" in body:
                assert re.match(r"^\$\{aws_launch_template\.", hcl.block(body, "launch_template")["id"]), name
                continue
            assert hcl.block(body, "metadata_options")["http_tokens"] == "required", f"{key}: instance {name}"
        for name, body in mod.resources("aws_autoscaling_group").items():
            assert hcl.block(body, "launch_template")["id"].startswith("${aws_launch_template."), name


def test_every_volume_and_data_store_is_encrypted() -> None:
    seen: set[str] = set()
    for key, mod in hcl.modules().items():
        for name, body in mod.resources("aws_launch_template").items():
            for mapping in body["block_device_mappings"]:
                assert hcl.block(mapping, "ebs")["encrypted"] is True, f"{key}: {name}"
                seen.add("aws_launch_template")
        for name, body in mod.resources("aws_instance").items():
            if "root_block_device" in body:
                assert hcl.block(body, "root_block_device")["encrypted"] is True, f"{key}: {name}"
                seen.add("aws_instance")
        for name, body in mod.resources("aws_ebs_volume").items():
            assert body["encrypted"] is True, f"{key}: {name}"
            seen.add("aws_ebs_volume")
        for name, body in mod.resources("aws_db_instance").items():
            assert body["storage_encrypted"] is True and body["publicly_accessible"] is False, name
            seen.add("aws_db_instance")
        for name, body in mod.resources("aws_elasticache_replication_group").items():
            assert body["at_rest_encryption_enabled"] is True and body["transit_encryption_enabled"] is True, name
            seen.add("aws_elasticache_replication_group")
    assert seen == {
        "aws_launch_template",
        "aws_instance",
        "aws_ebs_volume",
        "aws_db_instance",
        "aws_elasticache_replication_group",
    }


def test_nodes_are_managed_through_ssm_and_no_key_pair() -> None:
    cluster = hcl.module("cluster")
    attachments = cluster.resources("aws_iam_role_policy_attachment").values()
    assert any(a["policy_arn"].endswith(":policy/AmazonSSMManagedInstanceCore") for a in attachments)
    for key, mod in hcl.modules().items():
        assert not mod.resources("aws_key_pair"), key
        for kind in ("aws_launch_template", "aws_instance"):
            for name, body in mod.resources(kind).items():
                assert "key_name" not in body, f"{key}: {kind}.{name} carries an SSH key"


def test_worker_group_defaults_to_two_to_four_nodes_in_private_subnets() -> None:
    (group,) = hcl.module("cluster").resources("aws_autoscaling_group").values()
    resolved = {k: hcl.resolve("modules/cluster", group[k]) for k in ("min_size", "max_size", "desired_capacity")}
    assert resolved == {"min_size": 2, "max_size": 4, "desired_capacity": 2}
    assert group["vpc_zone_identifier"] == "${var.private_subnet_ids}"
    assert group["health_check_type"] == "EC2"


def test_managed_data_is_the_default_and_private() -> None:
    assert hcl.root().named("variable")["data_mode"]["default"] == "managed"
    data = hcl.module("data")
    (db,) = data.resources("aws_db_instance").values()
    assert db["db_subnet_group_name"].startswith("${aws_db_subnet_group.")
    assert data.resources("aws_db_parameter_group")["this"]["parameter"][0] == {"name": "rds.force_ssl", "value": "1"}


def test_network_spans_two_or_three_zones_with_nat() -> None:
    variable = hcl.root().named("variable")["az_count"]
    assert variable["default"] in (2, 3) and variable["validation"]
    network = hcl.module("network")
    assert network.resources("aws_nat_gateway") and network.resources("aws_internet_gateway")
    assert network.resources("aws_subnet")["public"]["map_public_ip_on_launch"] is False


def test_vpc_does_not_overlap_the_cluster_ranges() -> None:
    cluster_vars = yaml.safe_load((ROOT / "ansible/group_vars/all/cluster.yml").read_text())
    vpc = ipaddress.ip_network(hcl.root().named("variable")["vpc_cidr"]["default"])
    for key in ("kubernetes_pod_cidr", "kubernetes_service_cidr"):
        assert not vpc.overlaps(ipaddress.ip_network(cluster_vars[key])), key


def kourier_node_ports_in_knative() -> dict[int, int] | None:
    """Kourier's NodePort Service as the knative/ overlay declares it (port -> nodePort), if present."""
    for path in sorted((ROOT / "knative").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if (
                isinstance(doc, dict)
                and doc.get("kind") == "Service"
                and doc.get("metadata", {}).get("namespace") == "kourier-system"
                and doc.get("spec", {}).get("type") == "NodePort"
            ):
                return {p.get("targetPort"): p["nodePort"] for p in doc["spec"]["ports"] if "nodePort" in p}
    return None


def test_node_ports_agree_with_the_kourier_service_in_knative() -> None:
    """Terraform's defaults are what knative/ declares; a deployment that changes
    them gets them patched in by ansible/ (tests/infra/test_deploy_path.py)."""
    declared = kourier_node_ports_in_knative()
    assert declared is not None, "knative/ must declare Kourier's NodePort Service in kourier-system"
    variables = hcl.root().named("variable")
    http, ready = variables["kourier_http_node_port"]["default"], variables["kourier_ready_node_port"]["default"]
    assert {http, ready} <= set(declared.values()), f"knative/ Kourier NodePorts {declared} vs the ALB's {http}, {ready}"
    # Where the target port is given by number: envoy's HTTP listener 8080, its readiness listener 9000.
    assert declared.get(8080, http) == http and declared.get(9000, ready) == ready, declared


def test_outputs_feed_the_ansible_inventory_and_every_variable_it_needs() -> None:
    outputs = hcl.root().named("output")
    assert "amazon.aws.aws_ec2" in outputs["ansible_inventory"]["value"]
    provided = set(re.findall(r"\b(eco2_[a-z0-9_]+)\s*=", outputs["ansible_vars"]["value"]))
    defined = {
        name for path in (ROOT / "ansible/group_vars/all").glob("*.yml") for name in yaml.safe_load(path.read_text())
    }
    used = {
        name
        for path in (ROOT / "ansible").rglob("*")
        if path.is_file() and path.suffix in (".yml", ".j2")
        for name in re.findall(r"\b(eco2_[a-z0-9_]+)\b", path.read_text())
    }
    assert used - defined <= provided, f"ansible uses variables nobody sets: {sorted(used - defined - provided)}"


def test_checkov_skips_say_why() -> None:
    skips = [
        (path, match)
        for path in hcl.TERRAFORM.rglob("*.tf")
        for match in re.finditer(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?", path.read_text())
    ]
    assert skips, "expected justified skips"
    for path, match in skips:
        reason = (match.group(2) or "").strip()
        assert len(reason) >= 30, f"{path.relative_to(ROOT)}: {match.group(1)} skipped without a reason"


def test_terraform_fmt() -> None:
    binary, origin = terraform()
    if binary is None:
        pytest.skip(origin)
    done = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(hcl.TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"terraform fmt ({origin}) would change:\n{done.stdout}{done.stderr}"

