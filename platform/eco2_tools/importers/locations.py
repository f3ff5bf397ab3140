"""Collection points and zero-waste shops: `eco2 import locations`.

Reads the two source CSVs of the original app (KECO's recycling-compensation
sites, and a zero-waste map exported from Kakao Map favourites) and writes the
project's normalized dataset, platform/eco2/data/locations/:

- sites.jsonl: one site per line, with the store category and pickup
  categories from eco2.location.categories' keyword rules, opening hours
  parsed per weekday (eco2.location.hours) and the phone number normalized;
- report.json: counts and every skipped row with the reason;
- holidays.json: Korea's public holidays (``holidays`` package), for "open now".

A site needs a valid position in South Korea. KECO rows are taken as given
(an unparseable number or a point outside the country is skipped, never
guessed). Kakao favourites without lon/lat still carry Kakao's own map
coordinates (x, y: WCONGNAMUL, a transverse Mercator scaled by 2.5); those are
converted with pyproj, after checking the conversion against every row that
has both.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from eco2.location import categories, hours

OUT = Path(__file__).resolve().parents[2] / "eco2" / "data" / "locations"
KECO = "location/keco_recycle_compensation_sites.csv"
ZERO_WASTE = "location/zero_waste_map.csv"

# South Korea, with its islands (Marado to Dokdo, Baengnyeongdo to the DMZ).
LAT_RANGE, LON_RANGE = (33.0, 38.7), (124.5, 132.0)
# Kakao's WCONGNAMUL: TM (GRS80, origin 38N 127E, false easting 200 km,
# false northing 500 km) with the metres multiplied by 2.5.
WCONGNAMUL = (
    "+proj=tmerc +lat_0=38 +lon_0=127 +k=1 +x_0=200000 +y_0=500000 +ellps=GRS80 +units=m +no_defs"
)
WCONGNAMUL_SCALE = 2.5
MAX_CONVERSION_ERROR_M = 5.0
HOLIDAY_YEARS = range(2024, 2031)

KECO_DAYS = {
    "mon": "monSalsHrExplnCn", "tue": "tuesSalsHrExplnCn", "wed": "wedSalsHrExplnCn",
    "thu": "thurSalsHrExplnCn", "fri": "friSalsHrExplnCn", "sat": "satSalsHrExplnCn",
    "sun": "sunSalsHrExplnCn", hours.HOLIDAY: "lhldySalsHrExplnCn",
}
# The representative number first; the basic one often lacks its area code.
KECO_PHONES = ("rprsTelnoCn", "bscTelnoCn", "indivTelnoCn")
# An address starts with a province or metropolitan city: "서울 ", "경기도 ", "전북특별자치도 ".
_REGION = (
    r"(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|제주|충북|충남|전북|전남|경북|경남"
    r"|충청[남북]|전라[남북]|경상[남북])(?:특별시|광역시|특별자치시|특별자치도|도|시)?\s"
)
_ADDRESS = re.compile(_REGION)
# How address favourites combine a name and an address in their title.
_TITLE_FORMS = (
    re.compile(rf"^(?P<name>[^()]+?)\s*\((?P<address>{_REGION}[^()]+)\)$"),  # 틈새숲을(경북 경주시 …)
    re.compile(rf"^(?P<name>[^:]+):\s*(?P<address>{_REGION}.+)$"),  # 리사이클링 마켓: 서울 노원구 …
    re.compile(rf"^(?P<address>{_REGION}.*?\d+(?:-\d+)?)\s+(?P<name>\D+)$"),  # 서울 … 157-4 플라프리
)
_HANDLE = re.compile(r"\s*@[\w.]+")


class Skipped(Exception):
    """A row that cannot become a site; the message is the reason."""


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _in_korea(lat: float, lon: float) -> bool:
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]


def coordinates(lat_text: str | None, lon_text: str | None) -> tuple[float, float]:
    """A (lat, lon) given as text, or Skipped saying what is wrong with it."""
    if not _text(lat_text) or not _text(lon_text):
        raise Skipped("no coordinates")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise Skipped(f"coordinates are not numbers: {lat_text!r}, {lon_text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and _in_korea(lat, lon)):
        raise Skipped(f"coordinates outside South Korea: {lat}, {lon}")
    return lat, lon


def phone(*texts: str | None) -> str | None:
    """The first valid Korean phone number in ``texts``, formatted as dialled at home."""
    import phonenumbers

    for text in texts:
        for match in phonenumbers.PhoneNumberMatcher(text or "", "KR"):
            if phonenumbers.is_valid_number(match.number):
                return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def keco_site(r: dict[str, str]) -> dict[str, Any]:
    lat, lon = coordinates(r["positnPstnLat"], r["positnPstnLot"])
    name = _text(r["positnNm"])
    if not name:
        raise Skipped("no name")
    intro, tags, words = r["positnIntdcCn"], r["indivRelSrchListCn"], r["comRelSrwrdListCn"]
    items = _lines(r["clctItemCn"])
    days = {day: hours.parse(r[column]) for day, column in KECO_DAYS.items()}
    homepage = _text(r["lnkgHmpgUrlAddr"])
    return {
        "id": int(r["positnSn"]),
        "source": "keco",
        "source_pk": r["positnSn"].strip(),
        "name": name,
        "latitude": lat,
        "longitude": lon,
        "store_category": categories.keco_store(name, intro, tags, words),
        # The accepted-items column when it is filled, else what the site says of itself.
        "pickup_categories": categories.pickups(*items) if items else categories.pickups(intro, words),
        "region": _text(r["positnRgnNm"]),
        "road_address": _text(r["positnRdnmAddr"]),
        "lot_address": _text(r["positnLotnoAddr"]),
        "address_detail": _text(r["positnPstnAddExpln"]),
        "phone": phone(*(r[c] for c in KECO_PHONES)),
        "homepage": homepage if homepage and homepage.startswith(("http://", "https://")) else None,
        "introduction": _text(intro),
        "parking": _text(r["prkMthdExpln"]),
        "collection_items": items,
        "notes": _text(r["etcMttrCn"]),
        "hours": {day: h.to_json() for day, h in days.items() if h is not None},
    }


class KakaoCoordinates:
    """WCONGNAMUL -> WGS84, checked against the favourites that have both."""

    def __init__(self, rows: Iterable[dict[str, str]]) -> None:
        from pyproj import Transformer

        self._to_wgs84 = Transformer.from_crs(WCONGNAMUL, "EPSG:4326", always_xy=True)
        errors = [
            _metres(self.convert(r["x"], r["y"]), (float(r["lat"]), float(r["lon"])))
            for r in rows
            if _text(r["lat"]) and _text(r["lon"]) and _text(r["x"]) and _text(r["y"])
        ]
        self.checked = len(errors)
        self.max_error_m = max(errors, default=0.0)
        if self.max_error_m > MAX_CONVERSION_ERROR_M:
            raise ValueError(f"Kakao x/y disagree with lon/lat by up to {self.max_error_m:.1f} m")

    def convert(self, x: str, y: str) -> tuple[float, float]:
        lon, lat = self._to_wgs84.transform(float(x) / WCONGNAMUL_SCALE, float(y) / WCONGNAMUL_SCALE)
        return lat, lon


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two nearby points (equirectangular; fine under a kilometre)."""
    dy = math.radians(a[0] - b[0])
    dx = math.radians(a[1] - b[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6_371_008.8 * math.hypot(dx, dy)


def _looks_like_address(text: str | None) -> bool:
    return bool(text and _ADDRESS.match(text))


def _clean_name(text: str) -> str:
    """A favourite's title without the Instagram handle or phone number people put in it."""
    text = _HANDLE.sub("", text)
    text = re.sub(r"\s*0\d{1,2}-\d{3,4}-\d{4}", "", text)
    return text.strip(" ,/")


def _name_and_address(r: dict[str, str]) -> tuple[str, str | None]:
    name, address = _title_parts(r)
    address = _HANDLE.sub("", address or "").strip(" /")
    return name, address or None


def _title_parts(r: dict[str, str]) -> tuple[str, str | None]:
    """Favourites of a place have the name in display1 and the address in
    display2; favourites of an address mix them with the memo."""
    title, memo, place = _text(r["display1"]) or "", _text(r["memo"]), _text(r["display2"])
    if r["favoriteType"] == "PLACE":
        return _clean_name(title), place
    for form in _TITLE_FORMS:
        both = form.match(title)
        if both:
            return _clean_name(both["name"]), both["address"].strip()
    if _looks_like_address(title):
        return _clean_name(memo if memo and not _looks_like_address(memo) else title), title
    return _clean_name(title), memo if _looks_like_address(memo) else place


def zero_waste_site(r: dict[str, str], kakao: KakaoCoordinates) -> dict[str, Any]:
    converted = False
    if _text(r["lat"]) or _text(r["lon"]):
        lat, lon = coordinates(r["lat"], r["lon"])
    elif _text(r["x"]) and _text(r["y"]):
        lat, lon = kakao.convert(r["x"], r["y"])
        if not _in_korea(lat, lon):
            raise Skipped(f"Kakao coordinates outside South Korea: {lat:.5f}, {lon:.5f}")
        lat, lon, converted = round(lat, 7), round(lon, 7), True
    else:
        raise Skipped("no coordinates")
    name, address = _name_and_address(r)
    if not name:
        raise Skipped("no name")
    memo = _text(r["memo"])
    place = r["favoriteType"] == "PLACE" and r["key"].strip().isdigit()
    return {
        "id": int(r["seq"]),
        "source": "zerowaste",
        "source_pk": r["seq"].strip(),
        "name": name,
        "latitude": lat,
        "longitude": lon,
        "store_category": categories.zero_waste_store(name, memo or ""),
        "pickup_categories": categories.pickups(memo or ""),
        "road_address": address,
        "lot_address": _text(r["display2"]) if address != _text(r["display2"]) else None,
        "phone": phone(r["display1"], memo),
        "memo": memo,
        "kakao_place_id": r["key"].strip() if place else None,
        "place_url": f"https://place.map.kakao.com/{r['key'].strip()}" if place else None,
        "coordinates_from": "kakao_map_xy" if converted else None,
        "hours": {},
    }


def build(source: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The sites and the report, from the two source CSVs in ``source``."""
    keco_rows, zw_rows = _read(source / KECO), _read(source / ZERO_WASTE)
    kakao = KakaoCoordinates(zw_rows)
    sites: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for name, rows, convert in (
        ("keco", keco_rows, keco_site),
        ("zerowaste", zw_rows, lambda r: zero_waste_site(r, kakao)),
    ):
        for r in rows:
            try:
                sites.append(convert(r))
            except Skipped as why:
                key = r.get("positnSn") or r.get("seq")
                label = r.get("positnNm") or r.get("display1")
                skipped.append({"source": name, "source_pk": key, "name": label, "reason": str(why)})
    ids = Counter(s["id"] for s in sites)
    if max(ids.values(), default=1) > 1:
        raise ValueError(f"site ids collide: {[i for i, n in ids.items() if n > 1]}")
    sites.sort(key=lambda s: (s["source"], s["id"]))
    report = {
        "rows": {"keco": len(keco_rows), "zerowaste": len(zw_rows)},
        "sites": dict(Counter(s["source"] for s in sites)),
        "converted_from_kakao_xy": sum(1 for s in sites if s.get("coordinates_from")),
        "kakao_conversion": {"checked_rows": kakao.checked, "max_error_m": round(kakao.max_error_m, 2)},
        "store_categories": dict(sorted(Counter(s["store_category"] for s in sites).items())),
        "pickup_categories": dict(
            sorted(Counter(p for s in sites for p in s["pickup_categories"]).items())
        ),
        "hours_known": sum(1 for s in sites if len(s["hours"]) >= 7),
        "skipped": skipped,
    }
    return sites, report


def public_holidays(years: Iterable[int] = HOLIDAY_YEARS) -> dict[str, Any]:
    import holidays

    calendar = holidays.country_holidays("KR", years=list(years), language="ko")
    return {
        "source": f"holidays {holidays.__version__} (KR)",
        "years": [min(years), max(years)],
        "dates": {day.isoformat(): name for day, name in sorted(calendar.items())},
    }


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def run(source: Path, out: Path = OUT) -> str:
    sites, report = build(source)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sites.jsonl").open("w", encoding="utf-8") as f:
        for site in sites:
            f.write(json.dumps(site, ensure_ascii=False) + "\n")
    _write_json(out / "report.json", report)
    _write_json(out / "holidays.json", public_holidays())
    reasons = Counter(f"{s['source']}: {s['reason'].split(':')[0]}" for s in report["skipped"])
    return (
        f"wrote {len(sites)} sites to {out / 'sites.jsonl'} "
        f"(keco {report['sites'].get('keco', 0)} of {report['rows']['keco']}, "
        f"zerowaste {report['sites'].get('zerowaste', 0)} of {report['rows']['zerowaste']}, "
        f"{report['converted_from_kakao_xy']} positions from Kakao map x/y); "
        f"skipped {len(report['skipped'])}: "
        + ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
    )
