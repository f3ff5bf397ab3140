"""The image function's production wiring agrees with itself: the Secret the
Ansible secrets role writes, the keys the rendered Service reads from it, and
the variables ImageSettings reads."""

from __future__ import annotations

import yaml

from eco2.image.settings import ImageSettings

from ..support import ROOT


def _secret_keys() -> tuple[str, set[str]]:
    """The image Secret's name and the keys the secrets role puts in it."""
    defaults = yaml.safe_load((ROOT / "ansible" / "roles" / "secrets" / "defaults" / "main.yml").read_text())
    name = "eco2-image-s3"  # functions/image/function.yaml's secrets
    for secret in defaults["secrets_definitions"]:
        if secret["name"] == name:
            return name, set(secret["data"])
    raise AssertionError("the secrets role writes no image Secret")


def test_the_service_reads_only_keys_the_secret_has_into_variables_the_settings_read() -> None:
    secret, keys = _secret_keys()
    service = yaml.safe_load((ROOT / "knative" / "services" / "image.yaml").read_text())
    (container,) = service["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    from_secret = {name: ref["key"] for name, ref in refs.items() if ref["name"] == secret}
    aliases = {field.alias for field in ImageSettings.model_fields.values()}
    assert from_secret, "the Service reads nothing from the image Secret"
    assert set(from_secret.values()) <= keys
    assert set(from_secret) <= aliases
    # Everything the role writes is used: the bucket, its public URL, region and key.
    assert set(from_secret.values()) == keys
