"""Store and pickup categories of a site, and the keyword rules that assign them.

The codes are the original app's (its map filters send them), plus
``battery``. The importer applies the rules once; the runtime only validates
filters against the codes. The rules are documented in docs/location.md.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

# code -> the label the app shows
STORE_CATEGORIES: dict[str, str] = {
    "refill_zero": "제로웨이스트·리필",
    "cafe_bakery": "카페·베이커리",
    "vegan_dining": "비건·식당",
    "upcycle_recycle": "업사이클·재활용",
    "book_workshop": "책방·공방",
    "market_mart": "마트·시장",
    "lodging": "숙박",
    "public_dropbox": "무인 수거함",
    "general": "기타",
}

PICKUP_CATEGORIES: dict[str, str] = {
    "clear_pet": "투명 페트병",
    "colored_pet": "유색 페트병",
    "can": "캔·고철",
    "paper": "종이·종이팩",
    "plastic": "플라스틱·비닐",
    "glass": "유리병",
    "textile": "의류·섬유",
    "electronics": "소형 가전",
    "battery": "폐건전지",
    "general": "기타",
}

# Zero-waste map sites: name and memo, first rule that matches wins. The
# specific kinds of place come first, so that "카페 겸 제로웨이스트 상점" is a
# cafe; refill_zero is the zero-waste shop that is nothing more specific.
STORE_RULES: tuple[tuple[str, str], ...] = (
    ("lodging", r"숙소|숙박|게스트하우스|게하|민박|호텔|펜션|호스텔|여관|(?<![가-힣])스테이(?![가-힣])|stay|guest ?house"),
    ("cafe_bakery", r"카페|커피|베이커리|빵|제과|브루어리|찻집|티룸|cafe|coffee|bakery"),
    ("vegan_dining", r"비건|채식|식당|레스토랑|밥상|vegan"),
    ("book_workshop", r"책방|서점|도서관|공방|워크숍|워크샵|스튜디오|갤러리|교육|클래스|체험"),
    ("market_mart", r"마트|마켓|시장|생협|한살림|아이쿱|자연드림|협동조합|하나로|농산물|market"),
    ("upcycle_recycle", r"업사이클|되살림|리사이클|재활용|수거|리폼|수선|리퍼브|자원순환|중고"),
    ("refill_zero", r"제로 ?웨이스트|제웨|리필|무포장|용기|알맹|소분|상점|가게|샵|숍|store|shop"),
)

# KECO sites are all recycling drop-off points: an unstaffed machine or bin,
# or else a staffed recycling-reward point (자원순환가게 and the like).
_DROPBOX = r"무인|회수기|수거함|자판기"

# Pickup categories: each line (or comma-separated part) of the accepted-items
# text is matched on its own, lower-cased and without spaces; a part may name
# several. Colored PET is checked before clear PET and a bare "PET" (a PET
# container in the lists) is plastic.
PICKUP_RULES: tuple[tuple[str, str], ...] = (
    ("colored_pet", r"유색.*(pet|페트|패트)|(pet|페트|패트).*유색"),
    ("clear_pet", r"(투명|무색)(pet|페트|패트)"),
    ("plastic", r"플라스틱|플리스틱|(?<![a-z])(pp|pe|ps|other|others)(?![a-z])|^pet$|판(pet|페트)"
                r"|즉석밥|햇반|장난감|완구|블럭|빨대|비닐"),
    ("can", r"캔|알루미늄|고철|^철$"),
    ("paper", r"종이|서적|신문|박스|^책|우유팩"),
    ("glass", r"유리|소주병|맥주병|기타병|갈색|녹색병"),
    ("textile", r"의류|^옷|헌옷|섬유|외류|신발|가방"),
    ("electronics", r"전자|가전|휴대폰|핸드폰"),
    ("battery", r"건전지|폐전지|충전지|^전지|배터리"),
)

_PARTS = re.compile(r"[\n,]+")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def zero_waste_store(name: str, memo: str) -> str:
    text = _norm(f"{name} {memo}")
    return next((code for code, rule in STORE_RULES if re.search(rule, text)), "general")


def keco_store(*texts: str) -> str:
    return "public_dropbox" if re.search(_DROPBOX, _norm(" ".join(texts))) else "upcycle_recycle"


def pickups(*texts: str) -> list[str]:
    """The pickup categories named in ``texts``, in the order of PICKUP_CATEGORIES;
    ``["general"]`` when none is."""
    found = set()
    for text in texts:
        for part in _PARTS.split(_norm(text)):
            part = re.sub(r"\s+", "", part)
            found.update(code for code, rule in PICKUP_RULES if part and re.search(rule, part))
    return [code for code in PICKUP_CATEGORIES if code in found] or ["general"]


def parse_filter(value: str | None, known: Iterable[str]) -> list[str] | None:
    """A comma-separated filter as the app sends it: None (or ``all``) means no
    filter; raises ValueError naming the unknown codes."""
    if value is None:
        return None
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not codes or "all" in codes:
        return None
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValueError(f"unknown categories: {', '.join(unknown)}")
    return sorted(set(codes))
