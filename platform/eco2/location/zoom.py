"""The original app's Kakao map zoom -> search radius and result limit.

Kakao levels run from 1 (street) to 14 (country). The original mapped them
linearly onto an internal 1 (widest) .. 20 (closest) scale, rounding half up,
and looked the radius up in a table; the app still sends Kakao levels, so the
mapping and both tables are kept as they were.
"""

from __future__ import annotations

KAKAO_MIN, KAKAO_MAX = 1, 14
DEFAULT_RADIUS_M = 5000
DEFAULT_LIMIT = 200

# internal level -> radius in metres
RADIUS_M: dict[int, int] = {
    1: 80_000, 2: 60_000, 3: 45_000, 4: 30_000, 5: 20_000, 6: 15_000, 7: 10_000,
    8: 8_000, 9: 6_000, 10: 4_500, 11: 3_000, 12: 2_000, 13: 1_200, 14: 800,
    15: 500, 16: 300, 17: 200, 18: 150, 19: 120, 20: 100,
}
# lowest internal level -> result limit from that level up
LIMITS: tuple[tuple[int, int], ...] = ((13, 200), (10, 160), (7, 120), (4, 80), (1, 50))

_LOW, _HIGH = min(RADIUS_M), max(RADIUS_M)


def internal(kakao_level: int) -> int:
    """Kakao level (clamped to 1..14) -> internal level 1..20."""
    level = max(KAKAO_MIN, min(kakao_level, KAKAO_MAX))
    ratio = (KAKAO_MAX - level) / (KAKAO_MAX - KAKAO_MIN)
    return max(_LOW, min(_HIGH, _LOW + int((_HIGH - _LOW) * ratio + 0.5)))


def radius(kakao_level: int | None) -> int:
    return DEFAULT_RADIUS_M if kakao_level is None else RADIUS_M[internal(kakao_level)]


def limit(kakao_level: int | None) -> int:
    if kakao_level is None:
        return DEFAULT_LIMIT
    level = internal(kakao_level)
    return next(count for lowest, count in LIMITS if level >= lowest)


def table() -> list[dict[str, int]]:
    """Every Kakao level with its internal level, radius and limit (for the app)."""
    return [
        {"zoom": z, "level": internal(z), "radius_m": radius(z), "limit": limit(z)}
        for z in range(KAKAO_MIN, KAKAO_MAX + 1)
    ]
