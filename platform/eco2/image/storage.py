"""The bucket through boto3: presign a PUT, HEAD and DELETE an object.

boto3 is imported on the first call, never at start-up: ``/healthz`` and the
cold start do not pay for it. Presigning is a local computation (an HMAC over
the request with the configured key): no network call. HEAD and DELETE are
the only requests this function makes, with short timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eco2.problems import Problem, unavailable

if TYPE_CHECKING:
    from eco2.image.settings import ImageSettings


@dataclass(frozen=True)
class Head:
    """What a HEAD says about a stored object."""

    size: int
    etag: str  # without S3's surrounding quotes
    content_type: str | None


def unquote_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


@lru_cache(maxsize=4)
def _client(region: str, endpoint: str | None, key_id: str | None, secret: str | None, token: str | None) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token, region_name=region
    )
    config = Config(
        signature_version="s3v4",
        # Path-style on a custom endpoint (an IP address has no bucket subdomains).
        s3={"addressing_style": "path" if endpoint else "virtual"},
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return session.client("s3", endpoint_url=endpoint, config=config)


def client(settings: "ImageSettings") -> Any:
    """The S3 client of these settings (one per distinct configuration, made once)."""
    if not settings.bucket:
        raise unavailable("Uploads are not configured (ECO2_IMAGE_BUCKET is not set).")
    secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
    token = settings.session_token.get_secret_value() if settings.session_token else None
    return _client(settings.region, settings.endpoint_url, settings.access_key_id, secret, token)


def presign_put(settings: "ImageSettings", key: str, content_type: str) -> str:
    """A URL that lets its holder PUT ``key`` once it is signed, for
    ``url_ttl_seconds``, with exactly this Content-Type (a signed header)."""
    from botocore.exceptions import NoCredentialsError

    try:
        return client(settings).generate_presigned_url(
            "put_object",
            Params={"Bucket": settings.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=settings.url_ttl_seconds,
            HttpMethod="PUT",
        )
    except NoCredentialsError:
        raise unavailable("Uploads are not configured (no S3 credentials).") from None


def head(settings: "ImageSettings", key: str) -> Head | None:
    """The object's size, ETag and type; None when there is no such object.

    The function's key may not list the bucket, so S3 answers a HEAD of a
    missing key with 403, not 404 (docs/image.md): both mean "no such upload".
    """
    from botocore.exceptions import ClientError

    try:
        found = _call(lambda: client(settings).head_object(Bucket=settings.bucket, Key=key))
    except ClientError as exc:
        if _status(exc) in (403, 404):
            return None
        raise _storage_error(exc) from None
    return Head(size=int(found["ContentLength"]), etag=unquote_etag(found.get("ETag", "")),
                content_type=found.get("ContentType"))


def delete(settings: "ImageSettings", key: str) -> None:
    """Delete ``key`` (S3 answers a delete of a missing key with success too)."""
    from botocore.exceptions import ClientError

    try:
        _call(lambda: client(settings).delete_object(Bucket=settings.bucket, Key=key))
    except ClientError as exc:
        raise _storage_error(exc) from None


def _call(request: Any) -> Any:
    """Run one S3 request; a store that cannot be reached is a 503."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return request()
    except ClientError:
        raise
    except NoCredentialsError:
        raise unavailable("Uploads are not configured (no S3 credentials).") from None
    except BotoCoreError:  # connection refused, timeouts, a reply that is not S3's
        raise unavailable("The upload store is unavailable; try again shortly.") from None


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _storage_error(exc: Any) -> Problem:
    """Any other refusal by the store: the function is misconfigured or S3 failed."""
    status = _status(exc)
    if status >= 500:
        return unavailable("The upload store is unavailable; try again shortly.")
    return Problem(502, "The upload store refused the request.", slug="storage-error")
