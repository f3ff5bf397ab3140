"""Signing keys for access tokens: `eco2 keys generate`.

A key directory holds ``signing.pem`` (the current P-256 private key, mode
0600) and ``jwks.json`` (the public keys that verify tokens). Generating a new
key retires the current one to ``retired/<kid>.pem`` and keeps its public key
in the JWKS (``keep`` retired keys at most), so tokens it signed stay valid
until they expire: a rotation with no refused user.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from eco2.auth.signing import public_jwk


def _public(pem: bytes) -> dict[str, str]:
    return public_jwk(serialization.load_pem_private_key(pem, password=None).public_key())


def generate(directory: Path, keep: int = 1) -> dict[str, str]:
    """Create a new signing key in ``directory``; return its public JWK."""
    directory.mkdir(parents=True, exist_ok=True)
    signing = directory / "signing.pem"
    retired_dir = directory / "retired"
    if signing.exists():
        retired_dir.mkdir(exist_ok=True)
        signing.replace(retired_dir / f"{_public(signing.read_bytes())['kid']}.pem")
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(signing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    retired = sorted(retired_dir.glob("*.pem"), key=lambda p: p.stat().st_mtime, reverse=True) if retired_dir.exists() else []
    for old in retired[keep:]:
        old.unlink()
    current = _public(pem)
    keys = [current] + [_public(p.read_bytes()) for p in retired[:keep]]
    (directory / "jwks.json").write_text(json.dumps({"keys": keys}, indent=2) + "\n")
    return current


def ensure(directory: Path) -> Path:
    """A key directory with a signing key, generated if there is none."""
    if not (directory / "signing.pem").exists():
        generate(directory)
    return directory
