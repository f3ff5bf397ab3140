"""eco2.tracking: revocation keys kept in process, dropped when Redis announces a change."""

from __future__ import annotations

import time
import uuid
from typing import Iterator

import pytest
import redis

from eco2 import kv
from eco2.tracking import TrackedKeys

from ..conftest import TEST_REDIS_DB, flushed_redis


class Counting(redis.Redis):
    """The real client, counting the MGETs it sends."""

    mgets = 0

    def mget(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.mgets += 1
        return super().mget(*args, **kwargs)


NAME = f"tracking-test-{uuid.uuid4().hex[:8]}"  # this module's connections, in CLIENT LIST


@pytest.fixture(scope="module")
def url(redis_server: str) -> str:
    return flushed_redis(redis_server, TEST_REDIS_DB)


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[Counting]:
    c = Counting.from_url(url, client_name=NAME)
    yield c
    c.close()


@pytest.fixture
def tracked(client: Counting) -> Iterator[TrackedKeys]:
    keys = TrackedKeys(client, kv.REVOCATION_PREFIXES)
    yield keys
    keys.close()


def keys() -> tuple[str, str]:
    return kv.denied_token(uuid.uuid4().hex), kv.user_revoked_before(str(uuid.uuid4()))


def test_a_repeated_lookup_is_answered_in_process(client: Counting, tracked: TrackedKeys) -> None:
    deny, before = keys()
    assert tracked.mget(deny, before) == [None, None]
    served = client.mgets
    for _ in range(20):
        assert tracked.mget(deny, before) == [None, None]
    assert client.mgets == served
    assert not tracked.disabled


def test_a_write_from_another_client_is_seen_by_the_next_lookup(url: str, tracked: TrackedKeys) -> None:
    writer = redis.Redis.from_url(url)
    try:
        for _ in range(50):
            deny, before = keys()
            assert tracked.mget(deny, before) == [None, None]
            writer.set(deny, b"1", ex=60)
            # The announcement is written before the writer's reply: on one
            # machine it has arrived by the time the writer knows of its write.
            assert tracked.mget(deny, before) == [b"1", None]
            writer.set(before, b"123", ex=60)
            assert tracked.mget(deny, before) == [b"1", b"123"]
            writer.delete(deny)
            assert tracked.mget(deny, before) == [None, b"123"]
    finally:
        writer.close()


def test_a_lost_tracking_connection_forgets_everything(client: Counting, tracked: TrackedKeys) -> None:
    deny, before = keys()
    assert tracked.mget(deny, before) == [None, None]
    # Kill the connection announcements arrive on: this module's, subscribed (P) and tracking (t).
    ours = [c for c in client.client_list() if c["name"] == NAME and "P" in c["flags"] and "t" in c["flags"]]
    assert len(ours) == 1, ours
    client.client_kill_filter(_id=ours[0]["id"])
    client.set(deny, b"1", ex=60)  # announced to nobody now
    served = client.mgets
    assert tracked.mget(deny, before) == [b"1", None]  # read from Redis, not the stale entry
    assert client.mgets == served + 1


def test_a_flush_forgets_everything(client: Counting, tracked: TrackedKeys) -> None:
    deny, before = keys()
    assert tracked.mget(deny, before) == [None, None]
    client.set(deny, b"1", ex=60)
    assert tracked.mget(deny, before) == [b"1", None]
    served = client.mgets
    assert tracked.mget(deny, before) == [b"1", None]
    assert client.mgets == served  # cached
    client.flushdb()  # announced as "everything changed", naming no key
    # Unlike a key's announcement, which Redis writes before the writer's
    # reply, a flush's can reach the tracking socket a moment after the
    # FLUSHDB reply on a loaded machine: the cached answer must go once it has.
    deadline = time.monotonic() + 2
    while tracked.mget(deny, before) != [None, None]:
        assert time.monotonic() < deadline, "the flush was never announced"
        time.sleep(0.001)


def test_values_older_than_max_age_are_read_again(client: Counting) -> None:
    tracked = TrackedKeys(client, kv.REVOCATION_PREFIXES, max_age=0.05)
    try:
        deny, before = keys()
        tracked.mget(deny, before)
        served = client.mgets
        tracked.mget(deny, before)
        assert client.mgets == served
        time.sleep(0.06)
        tracked.mget(deny, before)
        assert client.mgets == served + 1
    finally:
        tracked.close()



def test_a_server_that_refuses_tracking_gets_plain_reads(client: Counting, url: str) -> None:
    user = f"notrack-{uuid.uuid4().hex[:8]}"
    client.acl_setuser(user, enabled=True, nopass=True, keys=["*"], commands=["+@all", "-client"])
    refused = Counting.from_url(url, username=user)
    tracked = TrackedKeys(refused, kv.REVOCATION_PREFIXES)
    try:
        deny, before = keys()
        assert tracked.mget(deny, before) == [None, None]
        assert tracked.disabled  # CLIENT TRACKING refused: never tried again
        client.set(deny, b"1", ex=60)
        assert tracked.mget(deny, before) == [b"1", None]
        assert refused.mgets == 2  # every lookup went to Redis
    finally:
        tracked.close()
        refused.close()
        client.acl_deluser(user)


def test_an_unreachable_redis_fails_every_lookup(client: Counting) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    down = redis.Redis(port=port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), retries=1))  # as eco2.kv's
    tracked = TrackedKeys(down, kv.REVOCATION_PREFIXES)
    for _ in range(2):
        with pytest.raises(redis.ConnectionError):
            tracked.mget(*keys())
    assert not tracked.disabled
