"""Bench users: signed in through auth's dev login, with profiles, points
history and scans, and a supply of unused refresh tokens."""

from __future__ import annotations

from dataclasses import dataclass

from bench import ROOT
from bench.stack import Stack


@dataclass
class User:
    user_id: str
    access_token: str
    refresh_token: str


@dataclass
class Users:
    """Bench users (from dev login), each with points history and scans, plus a
    supply of unused refresh tokens (each one may be rotated exactly once)."""

    users: list[User]
    spare_refresh: list[str]

    def take_refresh(self, n: int) -> list[str]:
        if len(self.spare_refresh) < n:
            raise RuntimeError("out of bench refresh tokens")
        taken, self.spare_refresh = self.spare_refresh[:n], self.spare_refresh[n:]
        return taken


SCAN_MIX = (  # (major, middle, correct): what a week of scanning looks like
    ("재활용폐기물", "무색페트병", True),
    ("재활용폐기물", "종이", True),
    ("재활용폐기물", "캔류", False),
    ("재활용폐기물", "비닐류", True),
    ("일반종량제폐기물", None, True),
    ("재활용폐기물", "유리병", False),
)


def make_users(st: Stack, count: int, spare_refresh: int) -> Users:
    """``count`` users through auth's dev login (in-process), their profiles
    created (my), and 18 scans each with their rewards (as scan will award them)."""
    import psycopg

    from eco2.scan import rewards
    from eco2.testing import Client

    env = st.env(ECO2_LOG_LEVEL="WARNING")
    auth = Client(ROOT / "functions" / "auth" / "main.py", env=env)
    my = Client(ROOT / "functions" / "my" / "main.py", env=env)
    users: list[User] = []
    spare: list[str] = []
    try:
        for i in range(count + spare_refresh):
            nickname = f"bench{i:05d}"
            reply = auth.post("/api/v1/auth/dev/login", json={"nickname": nickname})
            if reply.status != 200:
                raise RuntimeError(f"dev login failed: {reply.status} {reply.body[:200]!r}")
            doc = reply.json
            if i < count:
                users.append(User(doc["user_id"], doc["access_token"], doc["refresh_token"]))
            else:
                spare.append(doc["refresh_token"])
        for user in users:
            profile = my.get("/api/v1/user/me", headers={"Authorization": f"Bearer {user.access_token}"})
            if profile.status != 200:
                raise RuntimeError(f"profile failed: {profile.status} {profile.body[:200]!r}")
        with psycopg.connect(st.database_url) as conn:
            for user in users:
                for n in range(18):
                    major, middle, correct = SCAN_MIX[n % len(SCAN_MIX)]
                    with conn.transaction():
                        (scan_id,) = conn.execute(
                            """INSERT INTO scan.scans (user_id, major_category, middle_category, recyclable,
                                                      correct, missing_steps)
                               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                            (user.user_id, major, middle, major == "재활용폐기물", correct,
                             [] if correct else ["rinse"]),
                        ).fetchone()
                        rewards.award_scan(conn, user.user_id, str(scan_id), major=major, middle=middle,
                                           correct=correct)
    finally:
        auth.close()
        my.close()
    return Users(users, spare)
