"""chat: 이코, a recycling assistant grounded in the waste knowledge base."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from eco2 import Call, Function, Problem, sse
from eco2.chat.settings import ChatSettings

fn = Function("chat", "/api/v1/chat", settings=ChatSettings)

MAX_MESSAGE = 1000
SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class Message(BaseModel):
    """The released app sends ``{message, image_url, session_id?, temperature}``,
    with ``image_url`` null for text and ``message`` empty for a photo alone;
    eco2 adds ``scan_id``. A message may be empty only with a photo or a scan."""

    # Declared before the message, whose check reads them.
    image_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    scan_id: UUID | None = None
    session_id: SessionId | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_MESSAGE)]

    @field_validator("message")
    @classmethod
    def _something_to_answer(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("image_url") is None and info.data.get("scan_id") is None:
            raise PydanticCustomError("string_too_short", "A message is required without a photo or a scan")
        return value


class Source(BaseModel):
    kind: Literal["category", "item", "faq"]
    id: str
    title: str
    category: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class PhotoContext(BaseModel):
    origin: Literal["scan", "image"]
    category: str
    name: str
    item: str | None
    missing_steps: list[str]


class Answer(BaseModel):
    user_answer: str = Field(description="The answer (what the released app reads)")
    session_id: str
    message_id: str
    sources: list[Source] = Field(description="The knowledge base's entries the answer was given")
    model: str = Field(description='The model that answered, or "offline"')
    usage: Usage | None
    degraded: bool = Field(description="The model failed: an answer from the knowledge base alone")
    photo: PhotoContext | None


class SessionTurn(BaseModel):
    message_id: str
    message: str
    user_answer: str
    sources: list[Source]
    model: str
    photo: PhotoContext | None = None
    at: int


class SessionView(BaseModel):
    session_id: str
    expires_in: int
    turns: list[SessionTurn]


def _photo(call: Call, body: Message) -> Any:
    """The scan's or the photo's context, or None; 404 for a scan that is not the
    caller's. With both, the scan: it is what the user already saw classified."""
    if body.scan_id is None and body.image_url is None:
        return None
    from eco2.chat import photo

    if body.scan_id is None:
        return photo.from_image(call.settings, body.image_url, body.message)
    with call.db.read() as conn:
        found = photo.from_scan(conn, call.user.id, str(body.scan_id))
    if found is None:
        raise Problem(404, "No such scan.", slug="scan-not-found")
    return found


@fn.post("/messages", body=Message, response=Answer, status=201, auth=True)
def send_message(call: Call) -> Any:
    """Ask 이코; with ``Accept: text/event-stream`` the answer streams."""
    from eco2 import ratelimit
    from eco2.chat import conversation

    settings: ChatSettings = call.settings  # type: ignore[assignment]
    ratelimit.hit(call.redis, "chat", call.user.id, settings.rate_limit)
    body: Message = call.body
    ask = conversation.Ask(call.user.id, body.message, body.session_id, body.temperature, _photo(call, body),
                           issued_at=call.user.iat)
    if sse.wanted(call.request):
        return sse.stream(call, conversation.stream(call.redis, settings, ask))
    return conversation.answer(call.redis, settings, ask)


@fn.get("/sessions/{session_id}", response=SessionView, auth=True)
def read_session(call: Call) -> SessionView:
    """The session's turns, oldest first; the owner's only."""
    from eco2.chat import sessions

    sid = _session_id(call)
    turns = sessions.records(call.redis, call.user.id, sid)
    if not turns:
        raise _no_session()
    return SessionView(session_id=sid, expires_in=max(0, sessions.expires_in(call.redis, call.user.id, sid)),
                       turns=turns)


@fn.delete("/sessions/{session_id}", status=204, auth=True)
def delete_session(call: Call) -> None:
    """Delete the session now; the owner's only."""
    from eco2.chat import sessions

    if not sessions.delete(call.redis, call.user.id, _session_id(call)):
        raise _no_session()


def _session_id(call: Call) -> str:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(SessionId).validate_python(call.params["session_id"])
    except ValidationError:
        raise _no_session() from None


def _no_session() -> Problem:
    return Problem(404, "No such session.", slug="session-not-found")


handle = fn.build()
