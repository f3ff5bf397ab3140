"""The embedded store refuses what S3 refuses (eco2_tools.objectstore): these
checks are what make the upload tests mean something against moto."""

from __future__ import annotations

import pytest

from eco2 import config
from eco2.image import storage
from eco2.image.settings import ImageSettings

from .conftest import http, jpeg


@pytest.fixture
def signed(s3_env: dict[str, str]) -> ImageSettings:
    return config.load(ImageSettings, environ=s3_env)


def test_a_presigned_put_stores_exactly_the_bytes(signed: ImageSettings, s3_env, s3_server) -> None:
    url = storage.presign_put(signed, "scan/u/a.jpg", "image/jpeg")
    assert http("PUT", url, jpeg(), {"Content-Type": "image/jpeg"}).status == 200
    stored = s3_server.client().get_object(Bucket=s3_env["ECO2_IMAGE_BUCKET"], Key="scan/u/a.jpg")
    assert stored["Body"].read() == jpeg() and stored["ContentType"] == "image/jpeg"


@pytest.mark.parametrize("change", ["signature", "key id", "expires", "algorithm", "no content type"])
def test_an_altered_presigned_url_is_refused(signed: ImageSettings, s3_server, change: str) -> None:
    url = storage.presign_put(signed, "scan/u/b.jpg", "image/jpeg")
    headers = {"Content-Type": "image/jpeg"}
    if change == "signature":
        url = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    elif change == "key id":
        url = url.replace("X-Amz-Credential=eco2-dev", "X-Amz-Credential=someone-else")
    elif change == "expires":
        url = url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000")
    elif change == "algorithm":
        url = url.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")
    else:
        headers = {}
    reply = http("PUT", url, jpeg(), headers)
    assert reply.status == 403, (change, reply.body)
    assert s3_server.client().list_objects_v2(Bucket=signed.bucket).get("KeyCount") == 0


def test_anonymous_writes_are_refused_and_reads_are_served(signed: ImageSettings, s3_server) -> None:
    base = signed.public_base_url
    assert http("PUT", f"{base}/scan/u/c.jpg", jpeg(), {"Content-Type": "image/jpeg"}).status == 403
    s3_server.client().put_object(Bucket=signed.bucket, Key="scan/u/c.jpg", Body=b"photo")
    assert http("DELETE", f"{base}/scan/u/c.jpg").status == 403
    read = http("GET", f"{base}/scan/u/c.jpg")  # the store stands in for the CDN
    assert read.status == 200 and read.body == b"photo"
    assert http("GET", f"{base}/scan/u/missing.jpg").status == 404


def test_a_signed_head_of_a_missing_key_is_403_as_without_list_bucket(signed: ImageSettings) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        storage.client(signed).head_object(Bucket=signed.bucket, Key="scan/u/missing.jpg")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert storage.head(signed, "scan/u/missing.jpg") is None


def test_the_bucket_is_made_as_terraform_makes_it(signed: ImageSettings, s3_server) -> None:
    s3 = s3_server.client()
    rule = s3.get_bucket_lifecycle_configuration(Bucket=signed.bucket)["Rules"][0]
    assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] == 1
    cors = s3.get_bucket_cors(Bucket=signed.bucket)["CORSRules"][0]
    assert cors["AllowedMethods"] == ["PUT"] and cors["AllowedOrigins"] == ["http://localhost:5173"]
    assert cors["ExposeHeaders"] == ["ETag"]


def test_the_browsers_preflight_for_the_put_is_answered_from_the_buckets_cors(signed: ImageSettings) -> None:
    url = storage.presign_put(signed, "scan/u/d.jpg", "image/jpeg")
    reply = http("OPTIONS", url, headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT",
                                          "Access-Control-Request-Headers": "content-type"})
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "PUT" in reply.headers["Access-Control-Allow-Methods"]
    assert reply.headers["Access-Control-Expose-Headers"] == "ETag"
