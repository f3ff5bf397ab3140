"""The embedded S3-compatible store: moto's S3 server, checked like S3 checks.

``python -m eco2_tools.objectstore --port P --credentials ID:SECRET`` serves
moto's S3 (the ``moto[server]`` package) on 127.0.0.1. moto stores objects
faithfully but does not check a presigned URL: it accepts a PUT whose
Content-Type differs from the signed one, an expired URL and an altered key
(moto 5.2.5 verifies neither the SigV4 query signature nor its expiry). So
that `eco2 dev` and the tests refuse what S3 refuses, :class:`PresignCheck`
stands in front of it and verifies a presigned request with botocore's own
SigV4 signer before moto sees it; and, as S3 does with the image function's
grant (no ``s3:ListBucket``), ``--missing-key-status 403`` answers a signed
HEAD or GET of a missing key with 403 rather than 404.

Objects live in memory: they are gone when the store stops.
"""

from __future__ import annotations

import argparse
import hmac
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _error(start_response: Callable[..., Any], status: int, code: str, message: str) -> list[bytes]:
    """An error as S3 words it (XML with Code and Message)."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    reason = {400: "Bad Request", 403: "Forbidden"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class PresignCheck:
    """WSGI middleware: S3's checks of presigned URLs and anonymous writes.

    ``credentials`` maps access key ids to their secrets: the keys the store
    knows. A request with ``X-Amz-Signature`` in its query must be signed by
    one of them, over exactly the headers it lists (a different Content-Type
    fails), and not be expired. A write with neither a signature nor an
    Authorization header is refused, as a bucket that blocks public access
    does. Requests with an Authorization header (the SDK's own calls) go to
    moto as they are.
    """

    def __init__(self, app: Callable[..., Any], credentials: dict[str, str], missing_key_status: int = 404) -> None:
        self.app = app
        self.credentials = credentials
        self.missing_key_status = missing_key_status

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method == "OPTIONS":  # a browser's CORS preflight carries the URL's query, unsigned
            return self.app(environ, start_response)
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if "X-Amz-Signature" in query:
            refused = self._refusal(environ, method, query)
            if refused:
                return _error(start_response, 403, *refused)
        elif "HTTP_AUTHORIZATION" not in environ and method not in _READS:
            return _error(start_response, 403, "AccessDenied", "Access Denied")
        if self.missing_key_status == 403 and method in ("GET", "HEAD") and self._object_path(environ):
            return self.app(environ, self._missing_as_403(start_response))
        return self.app(environ, start_response)

    @staticmethod
    def _object_path(environ: dict[str, Any]) -> bool:
        """A signed request for an object (``/<bucket>/<key>``), not a bucket."""
        signed = "HTTP_AUTHORIZATION" in environ or "X-Amz-Signature" in environ.get("QUERY_STRING", "")
        return signed and environ.get("PATH_INFO", "").strip("/").count("/") >= 1

    @staticmethod
    def _missing_as_403(start_response: Callable[..., Any]) -> Callable[..., Any]:
        def respond(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if status.startswith("404"):
                status = "403 Forbidden"
            return start_response(status, headers, *rest)

        return respond

    def _refusal(self, environ: dict[str, Any], method: str, query: dict[str, str]) -> tuple[str, str] | None:
        """Why S3 would refuse this presigned request, or None."""
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from botocore.utils import percent_encode_sequence

        try:
            key_id, _day, region, service, _ = query["X-Amz-Credential"].split("/")
            signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = int(query["X-Amz-Expires"])
            names = query["X-Amz-SignedHeaders"].split(";")
        except (KeyError, ValueError):
            return ("AuthorizationQueryParametersError", "The presigned URL is malformed.")
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or service != "s3":
            return ("AuthorizationQueryParametersError", "Only AWS4-HMAC-SHA256 for s3 is supported.")
        secret = self.credentials.get(key_id)
        if secret is None:
            return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        if datetime.now(UTC) > signed_at + timedelta(seconds=expires):
            return ("AccessDenied", "Request has expired")
        headers = {}
        for name in names:
            value = _header(environ, name)
            if value is None:
                return ("SignatureDoesNotMatch", "A signed header is missing from the request.")
            headers[name] = value
        # The canonical request over what arrived: the path as sent, every query
        # parameter but the signature, the signed headers with their values.
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        rest = percent_encode_sequence({k: v for k, v in query.items() if k != "X-Amz-Signature"})
        request = AWSRequest(method=method, url=f"http://{headers.get('host', '')}{path}?{rest}", headers=headers)
        request.context["timestamp"] = query["X-Amz-Date"]
        auth = S3SigV4QueryAuth(Credentials(key_id, secret), "s3", region, expires=expires)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
            return ("SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.")
        return None


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")
    return value or None


def make_app(credentials: dict[str, str], missing_key_status: int = 404) -> PresignCheck:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return PresignCheck(DomainDispatcherApplication(create_backend_app), credentials, missing_key_status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", required=True, help="ACCESS_KEY_ID:SECRET the store accepts")
    parser.add_argument("--missing-key-status", type=int, choices=(403, 404), default=404)
    args = parser.parse_args(argv)
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    key_id, _, secret = args.credentials.partition(":")
    app = make_app({key_id: secret}, args.missing_key_status)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"objectstore: moto S3 on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
