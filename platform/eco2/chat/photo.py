"""A photo's part of the context: the user's scan (``scan_id``) or an ``image_url``.

A scan is read from ``scan.scans`` (the owner's only: another user's id is
not found). An ``image_url`` must name an object of the upload bucket
(:func:`eco2.image.settings.is_upload_url`); it is fetched and classified by
scan's classifier, the one classification scan uses (no reward). Only this
path imports the classifier and with it onnxruntime and Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eco2 import db, knowledge
from eco2.chat.grounding import Photo
from eco2.scan.answer import user_answer

if TYPE_CHECKING:
    from eco2.chat.settings import ChatSettings
    from eco2.db import Connection


def from_scan(conn: "Connection", user_id: str, scan_id: str) -> Photo | None:
    """The user's scan ``scan_id``, or None (no such scan, or someone else's)."""
    found = db.row(
        conn,
        """SELECT major_category, middle_category, item, missing_steps
             FROM scan.scans WHERE id = %s AND user_id = %s""",
        (scan_id, user_id),
    )
    if found is None:
        return None
    kb = knowledge.load()
    category = kb.category(found["middle_category"] or found["major_category"]) or kb.category("unclassified")
    name = found["item"]
    item = (kb.item(name) or kb.item_for_label(name, category.code)) if name else None
    missing = tuple(found["missing_steps"] or ())
    unsure = category.code == "unclassified"
    words = user_answer(category, item, unsure=unsure, missing=len(missing))
    return Photo("scan", category, item, missing, words)


def from_image(settings: "ChatSettings", url: str, message: str) -> Photo:
    """Fetch ``url`` (an upload of the image function's bucket) and classify it.

    Raises :class:`eco2.Problem`: 422 for a URL that is not an upload (or names
    nothing), 413 too large, 415/422 not a usable photo, 502/504 the store
    failed, 503 the model files are broken.
    """
    from eco2 import fetch

    fetched = fetch.upload(url, settings)
    from eco2.scan import classifier

    with classifier.as_problems():
        result = classifier.classify(fetched.data, user_input=message)
    return Photo("image", result.category, result.item, result.missing_steps, result.user_answer)
