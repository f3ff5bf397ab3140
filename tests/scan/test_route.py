"""POST /api/v1/scan/classify and its siblings, in process, against real PostgreSQL and
the embedded S3: each input form, each bad input (nothing stored), idempotency and the
50-way race, the reward and points, the stream, the owner-only task, the categories."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from PIL import Image

from eco2.testing import Client

from ..runtime.test_sse import events
from ..support import ROOT, Keys, bearer, is_problem, mint
from .images import encode, photo
from .test_decode import png_header_only

SOURCE = ROOT / "functions" / "scan" / "main.py"
URL = "/api/v1/scan/classify"
MAX_BYTES = 1_000_000  # ECO2_IMAGE_MAX_BYTES here: small, so that "too large" is cheap to send
COFFEE = photo("coffee.png")  # a 600x400 PNG of a coffee cup, 467 kB


@dataclass
class Scan:
    client: Client
    database_url: str
    keys: Keys
    s3: Any
    bucket: str
    public: str  # the bucket's public base URL

    def user(self) -> tuple[str, dict[str, str]]:
        user_id, token = mint(self.database_url, self.keys)
        return user_id, bearer(token)

    def upload(self, data: bytes, key: str | None = None) -> str:
        key = key or f"scan/{uuid.uuid4()}/{uuid.uuid4().hex}.jpg"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="image/jpeg")
        return f"{self.public}/{key}"

    def count(self, user_id: str) -> tuple[int, int]:
        """The user's scans and point-ledger entries."""
        with psycopg.connect(self.database_url) as conn:
            scans = conn.execute("SELECT count(*) FROM scan.scans WHERE user_id = %s", (user_id,)).fetchone()[0]
            ledger = conn.execute("SELECT count(*) FROM my.point_ledger WHERE user_id = %s", (user_id,)).fetchone()[0]
        return scans, ledger


class Stall(BaseHTTPRequestHandler):
    """An image host that sends headers and then nothing."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.flush()
        self.server.release.wait(10)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def scan(database_url: str, redis_server: str, keys: Keys, s3_server: Any) -> Iterator[Scan]:
    bucket = f"eco2-scan-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket, ["http://localhost:5173"])
    env = {"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_server, **keys.env,
           **s3_server.env(bucket),
           "ECO2_IMAGE_MAX_BYTES": str(MAX_BYTES), "ECO2_DB_POOL_MAX": "8"}
    client = Client(SOURCE, env=env)
    yield Scan(client, database_url, keys, s3_server.client(), bucket, f"{s3_server.url}/{bucket}")
    client.close()


def jpeg(size: tuple[int, int] = (320, 240), colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG")


APP_KEYS = {"task_id", "status", "message", "pipeline_result", "reward"}
ECO2_KEYS = {"scan_id", "confidence", "candidates", "source", "points", "model", "timings"}


def test_json_image_url_the_apps_way(scan: Scan) -> None:
    user_id, auth = scan.user()
    result = scan.client.post(URL, json={"image_url": scan.upload(COFFEE)}, headers=auth)
    assert result.status == 200, result.body
    doc = result.json
    assert APP_KEYS | ECO2_KEYS <= set(doc)
    assert doc["task_id"] == doc["scan_id"] and doc["status"] == "completed"
    pipeline = doc["pipeline_result"]
    classification = pipeline["classification_result"]["classification"]
    assert set(classification) == {"major_category", "middle_category", "minor_category"}
    assert classification["middle_category"] != "유리병"  # a coffee cup
    assert set(pipeline["final_answer"]) == {"disposal_steps", "insufficiencies", "user_answer"}
    assert pipeline["disposal_rules"]["key"] and pipeline["disposal_rules"]["category"]
    assert "reward" in doc  # explicitly null or an object
    assert doc["source"] == "model" and len(doc["candidates"]) == 3
    assert set(doc["timings"]) >= {"fetch_ms", "decode_ms", "inference_ms", "total_ms"}
    assert doc["timings"]["fetch_ms"] is not None
    assert doc["model"]["sha256"] and doc["points"]["awarded"] == doc["points"]["scan"] + doc["points"]["character"]
    assert scan.count(user_id) == (1, 1)


def test_multipart_and_raw_bodies(scan: Scan) -> None:
    user_id, auth = scan.user()
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"user_input\"\r\n\r\n우유팩이에요\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + jpeg() + f"\r\n--{boundary}--\r\n".encode()
    multi = scan.client.post(URL, data=body, headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert multi.status == 200, multi.body
    # A plain colour is unsure: the user's words decide.
    assert multi.json["source"] == "user_input"
    assert multi.json["pipeline_result"]["classification_result"]["classification"]["middle_category"] == "종이팩"
    raw = scan.client.post(URL, data=COFFEE, headers={**auth, "Content-Type": "image/png"},
                           query={"prepared": "rinsed"})
    assert raw.status == 200, raw.body
    assert raw.json["timings"]["fetch_ms"] is None
    assert scan.count(user_id)[0] == 2


def test_a_multipart_photo_is_parsed_in_memory(scan: Scan, monkeypatch: pytest.MonkeyPatch) -> None:
    """A part over 500 kB went to a temporary file under /tmp (a 64 Mi emptyDir):
    now no temporary file is made."""
    import os
    import tempfile

    made: list[str] = []
    real = tempfile.TemporaryFile

    def watched(*args: object, **kw: object) -> Any:
        made.append("TemporaryFile")
        return real(*args, **kw)

    monkeypatch.setattr(tempfile, "TemporaryFile", watched)
    noise = encode(Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3)), "PNG")
    assert 500_000 < len(noise) < MAX_BYTES
    _, auth = scan.user()
    body = (b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + noise + b"\r\n--b--\r\n")
    result = scan.client.post(URL, data=body, headers={**auth, "Content-Type": "multipart/form-data; boundary=b"})
    assert result.status == 200, result.body
    assert made == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the bomb case: refused, as it should be
@pytest.mark.parametrize("case", ["too large", "not an image", "gif", "truncated", "bomb", "url elsewhere",
                                  "url outside the bucket", "missing object", "unknown step", "no image part",
                                  "bad key", "long input", "huge form field", "too many parts"])
def test_bad_input_is_a_clear_4xx_and_stores_nothing(scan: Scan, case: str) -> None:
    user_id, auth = scan.user()
    raw = {**auth, "Content-Type": "image/jpeg"}
    multipart = {**auth, "Content-Type": "multipart/form-data; boundary=x"}
    cases: dict[str, tuple[int, dict[str, Any]]] = {
        "too large": (413, {"data": b"\xff\xd8" + b"0" * MAX_BYTES, "headers": raw}),
        "not an image": (415, {"data": b"hello, this is text", "headers": raw}),
        "gif": (415, {"data": encode(Image.new("RGB", (8, 8)), "GIF"), "headers": {**auth, "Content-Type": "image/gif"}}),
        "truncated": (422, {"data": jpeg()[:400], "headers": raw}),
        "bomb": (422, {"data": png_header_only(8000, 6000), "headers": {**auth, "Content-Type": "image/png"}}),
        "url elsewhere": (422, {"json": {"image_url": "http://169.254.169.254/latest/meta-data"}, "headers": auth}),
        "url outside the bucket": (422, {"json": {"image_url": scan.public.rsplit("/", 1)[0] + "/other/x.jpg"},
                                         "headers": auth}),
        "missing object": (422, {"json": {"image_url": scan.public + "/scan/nothing-here.jpg"}, "headers": auth}),
        "unknown step": (422, {"json": {"image_url": scan.upload(jpeg()), "prepared": ["polished"]}, "headers": auth}),
        "no image part": (422, {"data": b"--x\r\nContent-Disposition: form-data; name=\"user_input\"\r\n\r\nhi\r\n--x--\r\n",
                                "headers": multipart}),
        "bad key": (422, {"data": jpeg(), "headers": {**raw, "Idempotency-Key": "with space"}}),
        "long input": (422, {"data": jpeg(), "headers": raw, "query": {"user_input": "가" * 501}}),
        "huge form field": (413, {"data": b"--x\r\nContent-Disposition: form-data; name=\"user_input\"\r\n\r\n"
                                          + b"a" * 600_000 + b"\r\n--x--\r\n", "headers": multipart}),
        "too many parts": (413, {"data": b"".join(b"--x\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n"
                                                  % i for i in range(1200)) + b"--x--\r\n", "headers": multipart}),
    }
    status, request = cases[case]
    result = scan.client.post(URL, **request)
    assert is_problem(result, status), (result.status, result.body[:300])
    assert scan.count(user_id) == (0, 0)


def test_a_token_is_required(scan: Scan) -> None:
    assert is_problem(scan.client.post(URL, data=jpeg(), headers={"Content-Type": "image/jpeg"}), 401)


def test_a_stalled_image_host_is_a_504(database_url: str, redis_server: str, keys: Keys) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stall)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/photos"
    client = Client(SOURCE, env={"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_server, **keys.env,
                                 "ECO2_IMAGE_CDN_BASE_URL": base})
    try:
        import eco2.fetch as fetch

        user_id, token = mint(database_url, keys)
        original = fetch.policy

        def quick(settings: Any, *, max_bytes: int, total_timeout: float = 10.0) -> Any:
            return original(settings, max_bytes=max_bytes, total_timeout=0.3)

        fetch.policy = quick  # the route's deadline, shortened for the test
        try:
            result = client.post(URL, json={"image_url": base + "/scan/a.jpg"}, headers=bearer(token))
        finally:
            fetch.policy = original
        assert is_problem(result, 504) and result.json["type"].endswith("upstream-timeout")
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        client.close()


def test_idempotency_key_replays_the_first_answer(scan: Scan) -> None:
    user_id, auth = scan.user()
    url = scan.upload(jpeg())
    first = scan.client.post(URL, json={"image_url": url}, headers={**auth, "Idempotency-Key": "k-1"})
    again = scan.client.post(URL, json={"image_url": url}, headers={**auth, "X-Idempotency-Key": "k-1"})
    assert first.status == again.status == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    # Another key, or another user with the same key, is another scan.
    other = scan.client.post(URL, json={"image_url": url}, headers={**auth, "Idempotency-Key": "k-2"})
    assert other.json["scan_id"] != first.json["scan_id"]
    _, auth2 = scan.user()
    theirs = scan.client.post(URL, json={"image_url": url}, headers={**auth2, "Idempotency-Key": "k-1"})
    assert theirs.json["scan_id"] != first.json["scan_id"]
    assert scan.count(user_id) == (2, 2)


def test_an_idempotency_key_reused_for_another_request_is_a_422(scan: Scan) -> None:
    """Before: the same key with another photo silently replayed the first photo's scan."""
    user_id, auth = scan.user()
    key = {**auth, "Idempotency-Key": "k-reused"}
    url = scan.upload(jpeg())
    first = scan.client.post(URL, json={"image_url": url}, headers=key)
    assert first.status == 200, first.body
    others = {
        "another photo": dict(json={"image_url": scan.upload(jpeg(colour=(200, 40, 40)))}, headers=key),
        "other options": dict(json={"image_url": url, "user_input": "우유팩이에요"}, headers=key),
        "the photo in the body": dict(data=jpeg(), headers={**key, "Content-Type": "image/jpeg"}),
    }
    for name, request in others.items():
        result = scan.client.post(URL, **request)
        assert is_problem(result, 422) and result.json["type"].endswith("idempotency-key-reused"), (name, result.body)
    again = scan.client.post(URL, json={"image_url": url}, headers=key)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    # Raw bodies: the same bytes replay, other bytes are refused.
    raw = {**auth, "Idempotency-Key": "k-raw", "Content-Type": "image/jpeg"}
    assert scan.client.post(URL, data=jpeg(), headers=raw).status == 200
    assert scan.client.post(URL, data=jpeg(), headers=raw).headers["Idempotent-Replayed"] == "true"
    assert is_problem(scan.client.post(URL, data=jpeg(colour=(1, 2, 3)), headers=raw), 422)
    assert scan.count(user_id) == (2, 2)


def test_fifty_identical_requests_at_once_make_one_scan_and_one_award(scan: Scan) -> None:
    user_id, auth = scan.user()
    image = jpeg((64, 48))
    barrier = threading.Barrier(50)
    answers: list[Any] = [None] * 50

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = scan.client.post(URL, data=image, headers={**auth, "Content-Type": "image/jpeg",
                                                                 "Idempotency-Key": "race"})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status for a in answers] == [200] * 50, [a.body[:200] for a in answers if a.status != 200][:2]
    assert len({a.json["scan_id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert scan.count(user_id) == (1, 1)


def test_the_stream_of_stages(scan: Scan) -> None:
    user_id, auth = scan.user()
    result = scan.client.post(URL, json={"image_url": scan.upload(COFFEE)},
                              headers={**auth, "Accept": "text/event-stream"})
    assert result.status == 200 and result.content_type.startswith("text/event-stream")
    stream = events(result.body)
    assert [name for name, _ in stream] == ["decoded", "classified", "guide", "reward", "done"]
    data = dict(stream)
    assert data["decoded"]["format"] == "PNG" and data["decoded"]["width"] == 600
    done = data["done"]
    assert done["pipeline_result"]["classification_result"]["classification"] == data["classified"]["classification"]
    assert done["pipeline_result"]["final_answer"] == data["guide"]["final_answer"]
    assert done["reward"] == data["reward"]["reward"] and done["points"] == data["reward"]["points"]
    task = scan.client.get(f"/api/v1/scan/task/{done['task_id']}", headers=auth)
    assert {k: v for k, v in task.json.items() if k not in ("category", "completed_at")} == done
    assert scan.count(user_id) == (1, 1)
    # A bad photo is a problem, not a stream.
    bad = scan.client.post(URL, data=b"text", headers={**auth, "Content-Type": "image/jpeg", "Accept": "text/event-stream"})
    assert is_problem(bad, 415)


def test_task_is_the_owners_only(scan: Scan) -> None:
    _, auth = scan.user()
    doc = scan.client.post(URL, data=jpeg(), headers={**auth, "Content-Type": "image/jpeg"}).json
    mine = scan.client.get(f"/api/v1/scan/task/{doc['task_id']}", headers=auth)
    assert mine.status == 200
    assert mine.json["task_id"] == doc["task_id"] and mine.json["status"] == "completed"
    assert mine.json["category"] == doc["pipeline_result"]["classification_result"]["classification"]["major_category"]
    assert mine.json["completed_at"]
    _, stranger = scan.user()
    for path in (doc["task_id"], str(uuid.uuid4()), "not-a-uuid"):
        assert is_problem(scan.client.get(f"/api/v1/scan/task/{path}", headers=stranger), 404), path
    assert is_problem(scan.client.get(f"/api/v1/scan/task/{doc['task_id']}"), 401)


def test_categories_in_the_originals_shape(scan: Scan) -> None:
    result = scan.client.get("/api/v1/scan/categories")
    assert result.status == 200
    found = result.json
    assert [c["name"] for c in found] == [
        "재활용폐기물", "일반종량제폐기물", "불연성종량제폐기물", "음식물류폐기물", "대형폐기물",
        "공사장생활폐기물", "생활계유해폐기물", "미분류"]
    assert [c["id"] for c in found] == list(range(1, 9))
    recyclable = found[0]
    assert any(line.startswith("종이팩: ") and "우유팩" in line for line in recyclable["instructions"])
    assert all(c["display_name"] == c["name"] and c["instructions"] for c in found)


def test_the_reward_of_a_correct_recyclable(scan: Scan) -> None:
    """A milk carton named by the user, every required step confirmed: 10 points,
    the 종이팩 character (30 more) and the app's reward object; the next one: already owned."""
    user_id, auth = scan.user()
    first = scan.client.post(URL, json={"image_url": scan.upload(jpeg()), "user_input": "우유팩이에요"}, headers=auth).json
    assert first["reward"] is not None and first["reward"]["received"] is True
    assert first["reward"]["match_reason"] == "종이팩" and first["reward"]["already_owned"] is False
    assert first["points"] == {"awarded": 40, "scan": 10, "character": 30, "daily_cap_reached": False}
    second = scan.client.post(URL, json={"image_url": scan.upload(jpeg()), "user_input": "우유팩"}, headers=auth).json
    assert second["reward"]["received"] is False and second["reward"]["already_owned"] is True
    assert second["points"]["awarded"] == 10
    with psycopg.connect(scan.database_url) as conn:
        balance = conn.execute("SELECT balance FROM my.point_balances WHERE user_id = %s", (user_id,)).fetchone()[0]
        owned = conn.execute("SELECT count(*) FROM character.ownerships WHERE user_id = %s AND source = 'scan'",
                             (user_id,)).fetchone()[0]
    assert (balance, owned) == (50, 1)
    # Not a recyclable: reward null, 2 points.
    general = scan.client.post(URL, json={"image_url": scan.upload(jpeg()), "user_input": "칫솔"},
                               headers=auth).json
    assert general["pipeline_result"]["classification_result"]["classification"]["major_category"] == "일반종량제폐기물"
    assert general["reward"] is None and general["points"]["awarded"] == 2


def test_openapi_lists_the_three_forms(scan: Scan) -> None:
    doc = scan.client.get("/api/v1/scan/openapi.json").json
    content = doc["paths"][URL]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "image/jpeg", "image/png", "image/webp", "multipart/form-data"}
    assert content["multipart/form-data"]["schema"]["required"] == ["image"]
    # A photo in the body takes its options in the query (before: not in the document).
    query = {p["name"]: p for p in doc["paths"][URL]["post"]["parameters"] if p["in"] == "query"}
    assert set(query) == {"user_input", "prepared"} and not any(p["required"] for p in query.values())


def test_a_failed_warm_up_is_logged_and_a_stuck_one_not_waited_for(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """The warm-up's failure reaches the log (its class; before: swallowed), and a
    photo waits for a warm-up that hangs only WARM_UP_WAIT, once (before: join()
    without a timeout, every classify stuck behind it)."""
    from eco2.scan import classifier, endpoint
    from eco2.scan.settings import ScanSettings

    settings = ScanSettings.model_construct()

    def broken(_settings: object) -> None:
        raise OSError("no model file")

    monkeypatch.setattr(classifier, "get", broken)
    monkeypatch.setattr(endpoint, "_warming", [])
    endpoint.warm_up(settings)
    endpoint.await_warm_up()
    warned = [r for r in caplog.records if r.getMessage() == "scan warm-up failed"]
    assert warned and warned[0].fields == {"error": "OSError"}  # type: ignore[attr-defined]

    release = threading.Event()

    def stuck(_settings: object) -> None:
        release.wait(10)
        raise OSError("released")

    monkeypatch.setattr(classifier, "get", stuck)
    monkeypatch.setattr(endpoint, "WARM_UP_WAIT", 0.05)
    try:
        endpoint.warm_up(settings)
        endpoint.await_warm_up()  # returns, the warm-up still stuck
        assert endpoint._warming == [] and not release.is_set()  # noqa: SLF001 - the next photo waits for nothing
        assert any(r.getMessage() == "scan warm-up still running" for r in caplog.records)
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name == "scan-warm-up":
                thread.join(5)


def test_the_first_byte_timeout_outlasts_a_direct_uploads_worst_case() -> None:
    """queue-proxy answers 504 when the first byte is later than
    responseStartTimeoutSeconds, while the function may still commit the scan
    and its award: a client's retry without an Idempotency-Key would scan and
    award twice. Before: 45 s against 40 + 8 + 3 + 3 s."""
    from eco2 import config
    from eco2.scan import endpoint
    from eco2.scan.settings import ScanSettings
    from eco2_tools.functions import load

    spec = load(SOURCE.parent / "function.yaml").spec
    settings = config.load(ScanSettings, {"ECO2_ENV": "test", **spec["env"]})
    worst = (settings.body_timeout_seconds  # the photo, at a slow phone's pace
             + endpoint.WARM_UP_WAIT  # a stuck warm-up, on a pod's first photos
             + 1  # decoding and inference, well under 1 s
             + settings.vision_timeout_seconds
             + 2 * settings.db_timeout_seconds)  # a pooled connection, then the transaction
    assert worst <= spec["responseStartTimeoutSeconds"] <= spec["timeoutSeconds"], worst


def test_scans_concurrency_is_its_reader_slots() -> None:
    """A photo in the request holds a reader slot while it arrives; one more at
    once than there are slots is a 503 after 0.1 s. Knative must not send a
    pod more than that (before: no hard limit, 16 aimed at, 6 slots)."""
    from eco2 import body
    from eco2_tools.functions import load

    spec = load(SOURCE.parent / "function.yaml").spec
    slots = body.readers({"THREADS": spec["env"]["THREADS"]})
    scaling = spec["scaling"]
    assert scaling["containerConcurrency"] == slots, (scaling, slots)
    assert scaling["target"] <= slots


def test_importing_scan_loads_no_classifier() -> None:
    """main.py is imported in gunicorn's master before /readyz answers: Pillow,
    numpy and the knowledge base wait for the first photo (before: imported
    with the route module, ~52 ms of every cold start)."""
    import os
    import subprocess
    import sys

    code = ("import sys, main; print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'numpy', "
            "'onnxruntime') or m in ('eco2.scan.classifier', 'eco2.knowledge')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=SOURCE.parent, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "platform"), "ECO2_ENV": "test"})
    assert out.stdout.splitlines()[-1] == "[]", out.stdout
