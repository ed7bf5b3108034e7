"""S3 for the storage tests: a moto server on a free port, behind a small gateway that checks presigned URLs.

moto stores objects and enforces private ACLs on anonymous requests, but accepts any presigned URL without
checking its signature or expiry. Real S3 checks both, so the gateway in front of moto does what S3 does for a
query-signed request: it recomputes the SigV4 signature with botocore's own signer and refuses (403) a
signature that does not match or a URL past X-Amz-Date + X-Amz-Expires. Everything else is passed to moto as is.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

ACCESS_KEY = "AKIAH9TESTKEY0000000"
SECRET_KEY = "h9-test-secret-key-0000000000000000000000"
REGION = "us-east-1"
BUCKET = "shopvideo-test-media"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def presigned_refusal(method: str, host: str, raw_path: str) -> str | None:
    """Why S3 would refuse this query-signed request, or None when the signature and expiry hold."""
    path, _, query = raw_path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    try:
        signature = params["X-Amz-Signature"]
        amz_date = params["X-Amz-Date"]
        expires = int(params["X-Amz-Expires"])
        key_id, _date, region, _service, _term = params["X-Amz-Credential"].split("/")
    except (KeyError, ValueError):
        return "AuthorizationQueryParametersError"
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if datetime.now(UTC) > signed_at + timedelta(seconds=expires):
        return "Request has expired"
    if key_id != ACCESS_KEY:
        return "InvalidAccessKeyId"
    others = [(k, v) for k, v in pairs if not k.startswith("X-Amz-")]
    url = f"http://{host}{unquote(path)}" + (f"?{urlencode(others)}" if others else "")
    request = AWSRequest(method=method, url=url, headers={})
    request.context["timestamp"] = amz_date
    S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region, expires=expires).add_auth(request)
    expected = dict(parse_qsl(urlsplit(request.url).query))["X-Amz-Signature"]
    return None if expected == signature else "SignatureDoesNotMatch"


class _Gateway(BaseHTTPRequestHandler):
    backend_port = 0
    protocol_version = "HTTP/1.1"  # answers "Expect: 100-continue" at once (boto3 sends it with every PUT)

    def _forward(self) -> None:
        if "X-Amz-Signature=" in self.path and "Authorization" not in self.headers:
            reason = presigned_refusal(self.command, self.headers["Host"], self.path)
            if reason:
                body = f"<Error><Code>AccessDenied</Code><Message>{reason}</Message></Error>".encode()
                self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection("127.0.0.1", self.backend_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(name, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    moto_port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    handler = type("Gateway", (_Gateway,), {"backend_port": moto_port})
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    gateway.daemon_threads = True
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{gateway.server_address[1]}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        gateway.shutdown()
        gateway.server_close()
        moto.stop()


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """Point the default storage at the bucket, with the options settings.py uses for production."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        },
    }
    from django.core.files.storage import default_storage

    assert default_storage.bucket_name == BUCKET  # the lazy default storage was rebuilt from the new setting
    return settings
