"""image: presigned photo uploads to the bucket scan and chat read from."""

from __future__ import annotations

from typing import Annotated, Any, Callable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from eco2 import Call, Function, Problem
from eco2.image import uploads
from eco2.image.settings import ImageSettings

fn = Function("image", "/api/v1/images", settings=ImageSettings)


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(uploads.check_filename)]
    content_type: Annotated[str, Field(description="image/jpeg, image/png, image/webp or image/heic"),
                            AfterValidator(uploads.check_content_type)]
    uploader_id: str | None = Field(None, description="When given, the token's user id")
    metadata: Annotated[dict[str, Any], AfterValidator(uploads.check_metadata)] = Field(default_factory=dict)


class Callback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=3, max_length=512)
    etag: str = Field(min_length=1, max_length=128, description="The ETag S3 answered the PUT with")
    content_length: int | None = Field(None, ge=0)
    checksum: str | None = Field(None, max_length=128, description="Accepted for compatibility; not verified")


def _ticket_route(channel: str) -> Callable[[Call], Any]:
    def handler(call: Call) -> uploads.Ticket:
        body = call.body
        if body.uploader_id is not None and body.uploader_id.strip().lower() != call.user.id:
            raise Problem(403, "uploader_id is not the signed-in user.", slug="not-your-upload")
        return uploads.begin(call.settings, call.redis, channel, call.user.id, body.filename,
                             body.content_type, body.metadata)

    handler.__name__ = f"upload_url_{channel}"
    handler.__doc__ = f"A presigned PUT for a photo in the {channel} channel."
    return handler


def _callback_route(channel: str) -> Callable[[Call], Any]:
    def handler(call: Call) -> uploads.Confirmed:
        body = call.body
        return uploads.confirm(call.settings, call.redis, channel, call.user.id, body.key, body.etag,
                               body.content_length)

    handler.__name__ = f"confirm_{channel}"
    handler.__doc__ = f"Confirm an upload in the {channel} channel: it exists, is the caller's, has this ETag."
    return handler


for _channel in uploads.CHANNELS:
    # The answers are the domain's own dataclasses (eco2.image.uploads), as the original's shapes.
    fn.post(f"/{_channel}", auth=True, body=UploadRequest, response=uploads.Ticket)(_ticket_route(_channel))
    fn.post(f"/{_channel}/callback", auth=True, body=Callback, response=uploads.Confirmed)(_callback_route(_channel))

handle = fn.build()
