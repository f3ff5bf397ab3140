"""Upload tickets and their confirmation.

A ticket is a presigned PUT for a new key ``<channel>/<user_id>/<uuid><ext>``:
the channel and the caller's id are the key's first two segments, so nothing a
client sends can place an object under another channel or user. The file name
only picks the extension, and the extension always agrees with the content
type the URL pins. While the ticket is open, Redis keeps what the callback
returns (channel, uploader, metadata, content type).

The callback checks, with a HEAD, that the object exists under the caller's
prefix with the stated ETag and within the size limit. An upload it refuses is
deleted, so a failed upload leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eco2 import kv
from eco2.image import storage
from eco2.problems import Problem, not_found

if TYPE_CHECKING:
    import redis

    from eco2.image.settings import ImageSettings

log = logging.getLogger("eco2.image")

CHANNELS = ("chat", "scan", "my")
# The photo types the app sends, scan decodes and the key's extension names.
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
}
# A callback may come this long after its URL expired: S3 checks the expiry
# when a PUT starts, so an upload begun just before it may still be running.
CALLBACK_GRACE_SECONDS = 600
METADATA_MAX_BYTES = 2048
_KEY = re.compile(r"(?P<channel>[a-z]+)/(?P<user>[0-9a-f-]{36})/[0-9a-f]{32}\.[a-z]{3,4}")


@dataclass(frozen=True)
class Ticket:
    """A presigned PUT: the app PUTs the file to ``upload_url`` with
    ``required_headers`` within ``expires_in`` seconds, then passes ``cdn_url``
    on as ``image_url``."""

    key: str
    upload_url: str
    cdn_url: str
    expires_in: int
    required_headers: dict[str, str]


@dataclass(frozen=True)
class Confirmed:
    """A checked upload, with what was given when its URL was asked for."""

    key: str
    channel: str
    cdn_url: str
    uploader_id: str
    metadata: dict[str, Any]
    etag: str
    content_type: str


def check_filename(name: str) -> str:
    """A bare file name: no path segment, no control character (a 422 otherwise)."""
    if "/" in name or "\\" in name:
        raise ValueError("must be a file name, without path segments")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValueError("must not contain control characters")
    if name.strip(". ") == "":
        raise ValueError("must be a file name")
    return name


def check_content_type(value: str) -> str:
    if value not in EXTENSIONS:
        raise ValueError(f"must be one of {', '.join(EXTENSIONS)}")
    return value


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
        raise ValueError(f"must be at most {METADATA_MAX_BYTES} bytes as JSON")
    return value


def extension(filename: str, content_type: str) -> str:
    """The file name's extension when it names this content type, else the type's own."""
    known = EXTENSIONS[content_type]
    dot = filename.rfind(".")
    ext = filename[dot:].lower() if dot > 0 else ""
    return ext if ext in known else known[0]


def cdn_url(settings: "ImageSettings", key: str) -> str:
    base = settings.public_base_url
    if base is None:
        raise Problem(503, "Uploads are not configured (ECO2_IMAGE_BUCKET is not set).", slug="unavailable")
    return f"{base}/{key}"


def begin(
    settings: "ImageSettings",
    redis: "redis.Redis",
    channel: str,
    user_id: str,
    filename: str,
    content_type: str,
    metadata: dict[str, Any],
) -> Ticket:
    """A presigned PUT for a new key under ``<channel>/<user_id>/``, and its pending record."""
    key = f"{channel}/{user_id}/{uuid.uuid4().hex}{extension(filename, content_type)}"
    url = storage.presign_put(settings, key, content_type)
    public = cdn_url(settings, key)
    pending = {"channel": channel, "uploader_id": user_id, "metadata": metadata, "content_type": content_type}
    redis.set(kv.image_upload(key), json.dumps(pending, ensure_ascii=False),
              ex=settings.url_ttl_seconds + CALLBACK_GRACE_SECONDS)
    return Ticket(key=key, upload_url=url, cdn_url=public, expires_in=settings.url_ttl_seconds,
                  required_headers={"Content-Type": content_type})


def confirm(
    settings: "ImageSettings",
    redis: "redis.Redis",
    channel: str,
    user_id: str,
    key: str,
    etag: str,
    content_length: int | None,
) -> Confirmed:
    """Check an upload with a HEAD; refuse (and delete) what does not match."""
    owner = _owner(channel, key)
    if owner != user_id:
        raise Problem(403, "That upload belongs to another user.", slug="not-your-upload")
    raw = redis.get(kv.image_upload(key))
    if raw is None:
        raise not_found("No such upload: its URL was never issued, or it expired.")
    pending = json.loads(raw)
    found = storage.head(settings, key)
    if found is None:
        raise not_found("No such upload: nothing was stored under that key (the PUT failed or its URL expired).")
    refusal = _refusal(settings, found, pending["content_type"], etag, content_length)
    if refusal is not None:
        storage.delete(settings, key)
        redis.delete(kv.image_upload(key))
        log.info("upload refused and deleted", extra={"fields": {"key": key, "reason": refusal.slug}})
        raise refusal
    redis.delete(kv.image_upload(key))
    return Confirmed(key=key, channel=channel, cdn_url=cdn_url(settings, key), uploader_id=owner,
                     metadata=pending["metadata"], etag=etag, content_type=found.content_type or "")


def _owner(channel: str, key: str) -> str:
    """The user id in ``key``, after checking its shape and channel."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise Problem(422, "That is not an upload key.", slug="invalid-key")
    if match["channel"] != channel:
        raise Problem(400, f"That upload is not in the {channel} channel.", slug="wrong-channel")
    return match["user"]


def _refusal(settings: "ImageSettings", found: storage.Head, content_type: str, etag: str,
             content_length: int | None) -> Problem | None:
    if found.size > settings.max_bytes:
        return Problem(413, f"The upload is larger than {settings.max_bytes} bytes; it was deleted.",
                       slug="upload-too-large")
    if storage.unquote_etag(etag) != found.etag:
        return Problem(409, "The ETag does not match the stored upload; it was deleted.", slug="etag-mismatch")
    if content_length is not None and content_length != found.size:
        return Problem(409, "The length does not match the stored upload; it was deleted.", slug="length-mismatch")
    if found.content_type != content_type:
        # S3 refuses a PUT whose Content-Type is not the signed one; a store that does not check is caught here.
        return Problem(415, "The upload's content type is not the one its URL was issued for; it was deleted.",
                       slug="wrong-content-type")
    return None
