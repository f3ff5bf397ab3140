"""The image function's cold start does not pay for boto3: a fresh process
answers /healthz with neither boto3 nor botocore imported, and imports them on
the first upload route (make bench measures both starts)."""

from __future__ import annotations

import json
import subprocess
import sys

from ..support import ROOT
from .conftest import SOURCE

PROBE = """
import json, sys
from eco2.testing import Client

client = Client(sys.argv[1])
seen = {}
health = client.get("/healthz")
seen["healthz"] = [health.status, sorted(m for m in ("boto3", "botocore") if m in sys.modules)]
asked = client.post("/api/v1/images/scan", json={"filename": "a.jpg", "content_type": "image/jpeg"},
                    headers={"Authorization": "Bearer " + sys.argv[2]})
seen["upload"] = [asked.status, sorted(m for m in ("boto3", "botocore") if m in sys.modules)]
client.close()
print(json.dumps(seen))
"""


def test_healthz_does_not_import_boto3_and_an_upload_does(function_env, s3_env, make_user) -> None:
    _, token = make_user()
    env = {**function_env, **s3_env, "PYTHONPATH": str(ROOT / "platform")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(SOURCE), token], env=env, capture_output=True,
                          text=True, timeout=60, cwd=SOURCE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["healthz"] == [200, []]
    assert seen["upload"] == [200, ["boto3", "botocore"]]
