"""The upload bucket's configuration: one place for the image function, scan and chat.

The image function signs uploads into the bucket; scan and chat fetch what was
uploaded by its public URL. Both read the same variables through
:class:`ImageSettings`, so the bucket's public host is set once, and
:func:`allowed_origins` is the allow-list scan and chat check an ``image_url``
against::

    class ScanSettings(ImageSettings): ...      # scan's settings include these

    if origin_of(url) in allowed_origins(settings): fetch(url)

Every field is optional: without a bucket the upload routes answer 503, and
without a public base URL (explicit, or derived from the bucket) the allow-list
is empty, so scan and chat refuse every URL. In production the credentials and
the bucket come from the Secret ``eco2-image-s3`` (docs/image.md).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from eco2.config import Settings

# S3's rules for a bucket name (no dots: a dotted name breaks virtual-host TLS).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")


def _base_url(value: str | None, *, path: bool) -> str | None:
    """An http(s) URL without query or fragment (and, unless ``path``, without a path)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("must be an http(s) URL without query or fragment")
    if not path and parts.path not in ("", "/"):
        raise ValueError("must be a URL without a path, like https://s3.example.com")
    return value.rstrip("/")


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (host lower-cased, default ports dropped), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class ImageSettings(Settings):
    bucket: str | None = Field(None, alias="ECO2_IMAGE_BUCKET")
    region: str = Field("ap-northeast-2", alias="AWS_REGION")
    # An S3-compatible endpoint instead of AWS's (the embedded store of `eco2 dev`
    # and the tests); with it, URLs are path-style: <endpoint>/<bucket>/<key>.
    endpoint_url: str | None = Field(None, alias="ECO2_IMAGE_ENDPOINT_URL")
    # Where uploaded objects are read by everyone else (CloudFront): cdn_url is
    # <base>/<key>. Unset: the bucket's own URL (see public_base_url).
    cdn_base_url: str | None = Field(None, alias="ECO2_IMAGE_CDN_BASE_URL")
    # The standard AWS variables. Unset, boto3 finds credentials its own way.
    access_key_id: str | None = Field(None, alias="AWS_ACCESS_KEY_ID")
    secret_access_key: SecretStr | None = Field(None, alias="AWS_SECRET_ACCESS_KEY")
    session_token: SecretStr | None = Field(None, alias="AWS_SESSION_TOKEN")
    # How long a presigned upload URL stays valid (S3 allows up to 7 days).
    url_ttl_seconds: int = Field(300, ge=1, le=604_800, alias="ECO2_IMAGE_URL_TTL_SECONDS")
    # The largest upload the callback accepts; a larger object is deleted.
    max_bytes: int = Field(10 << 20, ge=1024, le=100 << 20, alias="ECO2_IMAGE_MAX_BYTES")

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value and not _BUCKET.fullmatch(value):
            raise ValueError("must be an S3 bucket name: 3-63 of a-z, 0-9 and -")
        return value or None

    @field_validator("region")
    @classmethod
    def _region_name(cls, value: str) -> str:
        if not _REGION.fullmatch(value):
            raise ValueError("must be an AWS region name such as ap-northeast-2")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _base_url(value, path=False)

    @field_validator("cdn_base_url")
    @classmethod
    def _cdn(cls, value: str | None) -> str | None:
        return _base_url(value, path=True)

    @field_validator("access_key_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def public_base_url(self) -> str | None:
        """What an object's public URL starts with: ``<base>/<key>``.

        ECO2_IMAGE_CDN_BASE_URL when set; else the bucket's own URL, path-style
        on a custom endpoint (the embedded store serves objects there) and
        virtual-host style on AWS; None without a bucket.
        """
        if self.cdn_base_url:
            return self.cdn_base_url
        if not self.bucket:
            return None
        if self.endpoint_url:
            return f"{self.endpoint_url}/{self.bucket}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com"


def allowed_origins(settings: ImageSettings) -> list[str]:
    """The origins (``scheme://host[:port]``, no trailing slash) uploaded photos
    are served from: the public base URL's. In development that is the embedded
    store's endpoint. Empty when nothing is configured: every URL is refused."""
    base = settings.public_base_url
    found = origin(base) if base else None
    return [found] if found else []


def has_credentials(netloc: str) -> bool:
    """Whether a URL's ``netloc`` carries userinfo (``user:pass@``, even an empty one)."""
    return "@" in netloc


def is_upload_url(settings: ImageSettings, url: str) -> bool:
    """Whether ``url`` names an object under the public base URL: its origin is
    allowed and its path is below the base's path (``/<bucket>/`` on the
    embedded store). Query and fragment are not allowed (a presigned URL is not
    an image URL), nor credentials (``user:pass@``: the store's URLs have none)."""
    base = settings.public_base_url
    if not base or origin(url) not in allowed_origins(settings):
        return False
    parts = urlsplit(url)
    if has_credentials(parts.netloc):
        return False
    prefix = urlsplit(base).path.rstrip("/") + "/"
    # Keys are [a-z0-9/.-]: an escape or a dot segment could only step out of the prefix.
    segments = parts.path.split("/")
    if "%" in parts.path or "." in segments or ".." in segments:
        return False
    return not parts.query and not parts.fragment and parts.path.startswith(prefix) and len(parts.path) > len(prefix)
