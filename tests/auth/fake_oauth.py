"""A local OAuth 2.0 provider for the tests: a real HTTP server on loopback.

It speaks the three shapes eco2 signs in with: Google (OIDC userinfo), Kakao
(``kakao_account``) and Naver (``resultcode``/``response``). ``authorize``
answers with a redirect carrying a code, as a provider does after the user
agrees; ``token`` checks client credentials, redirect URI and the PKCE
verifier against the challenge it saw, and for the OpenID Connect providers
(Google, Kakao) adds an ID token carrying the authorization request's nonce;
``userinfo`` returns the profile the test queued for that code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

CLIENTS = {p: (f"{p}-client", f"{p}-secret") for p in ("google", "kakao", "naver")}
OIDC = ("google", "kakao")  # the providers that return an ID token


def shape(provider: str, user: dict[str, Any]) -> dict[str, Any]:
    """The profile ``user`` as ``provider``'s userinfo endpoint returns it."""
    if provider == "google":
        return {"sub": user["id"], "email": user.get("email"), "email_verified": user.get("verified", False),
                "name": user.get("name"), "picture": "https://example.com/p.png"}
    if provider == "kakao":
        return {"id": int(user["id"]), "kakao_account": {
            "email": user.get("email"), "is_email_verified": user.get("verified", False),
            "is_email_valid": True, "profile": {"nickname": user.get("name")}}}
    return {"resultcode": "00", "message": "success",
            "response": {"id": user["id"], "email": user.get("email"), "nickname": user.get("name")}}


class FakeProvider:
    def __init__(self) -> None:
        self.next_user: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[str, dict[str, Any]]] = {}
        self.token_requests: list[dict[str, str]] = []
        # Per provider: claims to overwrite in the next ID tokens (a wrong
        # nonce, say), or None to send no ID token at all.
        self.id_token_claims: dict[str, dict[str, Any] | None] = {}
        self._id_token_key = secrets.token_bytes(32)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoints(self) -> dict[str, dict[str, str]]:
        return {p: {"authorize_url": f"{self.base}/{p}/authorize", "token_url": f"{self.base}/{p}/token",
                    "userinfo_url": f"{self.base}/{p}/userinfo", "issuer": self.issuer(p)} for p in CLIENTS}

    def issuer(self, provider: str) -> str:
        return f"{self.base}/{provider}"

    def id_token(self, provider: str, grant: dict[str, Any]) -> str | None:
        """The ID token for ``grant`` (None: the test asked for none)."""
        overrides = self.id_token_claims.get(provider, {})
        if overrides is None:
            return None
        now = int(time.time())
        claims = {"iss": self.issuer(provider), "aud": CLIENTS[provider][0], "sub": str(grant["user"]["id"]),
                  "iat": now, "exp": now + 3600, "nonce": grant["nonce"], **overrides}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self._id_token_key, "HS256")

    def __enter__(self) -> "FakeProvider":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                provider, _, endpoint = url.path.strip("/").partition("/")
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if endpoint == "authorize":
                    if query.get("client_id") != CLIENTS[provider][0]:
                        return self._json(400, {"error": "invalid_client"})
                    code = secrets.token_urlsafe(12)
                    fake.codes[code] = {"provider": provider, "user": fake.next_user[provider],
                                        "redirect_uri": query["redirect_uri"],
                                        "challenge": query.get("code_challenge"),
                                        "method": query.get("code_challenge_method"),
                                        "nonce": query.get("nonce")}
                    self.send_response(302)
                    location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                    self.send_header("Location", location)
                    self.end_headers()
                    return None
                if endpoint == "userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in fake.tokens:
                        return self._json(401, {"error": "invalid_token"})
                    owner, user = fake.tokens[token]
                    return self._json(200, shape(owner, user))
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                provider = urlsplit(self.path).path.strip("/").split("/")[0]
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.token_requests.append(form)
                grant = fake.codes.pop(form.get("code", ""), None)
                if grant is None or grant["provider"] != provider:
                    return self._json(400, {"error": "invalid_grant"})
                if (form.get("client_id"), form.get("client_secret")) != CLIENTS[provider]:
                    return self._json(401, {"error": "invalid_client"})
                if form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                if grant["challenge"]:
                    verifier = form.get("code_verifier", "")
                    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                    if grant["method"] != "S256" or digest.decode() != grant["challenge"]:
                        return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                token = secrets.token_urlsafe(16)
                fake.tokens[token] = (provider, grant["user"])
                reply = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
                id_token = fake.id_token(provider, grant) if provider in OIDC else None
                if id_token:
                    reply["id_token"] = id_token
                return self._json(200, reply)

        return Handler
