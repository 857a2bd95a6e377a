"""slack_sdk's WebClient over the pooled keep-alive transport (bot/kit/http_pool.py).

The sync WebClient opens a new connection (TCP, and TLS against slack.com) for every call through
urllib. Its two transport hooks are replaced here, and nothing else: the request it builds (body,
headers, token) and the way it reads answers (an HTTPError for a non-2xx status, from which it takes
the status, headers and body, as with urllib) stay slack_sdk's. Retrying stays off
(`retry_handlers=[]` in the sender): the outbox retries, and the pool sends a request again only
when it provably never left.

The hooks are slack_sdk internals (3.x): tests/bot/test_slack_web_client.py checks that every call
goes through the pool, so a slack_sdk release that renames them fails the suite, not production.
"""
from __future__ import annotations

import email.message
import io
from urllib.error import HTTPError
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.web.file_upload_v2_result import FileUploadV2Result

from bot.kit.http_pool import HttpPool


def _message(headers: dict[str, str]) -> email.message.Message:
    """Headers as urllib hands them to slack_sdk (get_content_charset, items)."""
    msg = email.message.Message()
    for k, v in headers.items():
        msg[k] = v
    return msg


class PooledWebClient(WebClient):
    def __init__(self, *, http: HttpPool, **kwargs):
        super().__init__(**kwargs)
        self.http = http

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict:
        if not url.lower().startswith("http"):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        resp = self.http.request(req.get_method(), url, body=req.data, headers=dict(req.header_items()),
                                 timeout=self.timeout)
        headers = _message(resp.headers)
        if not 200 <= resp.status < 300:  # as urllib does: the caller reads the answer from the error
            raise HTTPError(url, resp.status, f"HTTP {resp.status}", headers, io.BytesIO(resp.body))
        charset = headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": headers, "body": resp.body.decode(charset)}

    def _upload_file(self, *, url, data, logger, timeout, proxy, ssl) -> FileUploadV2Result:
        resp = self.http.request("POST", url, body=data, timeout=timeout,
                                 headers={"Content-Type": "application/octet-stream"})
        return FileUploadV2Result(status=resp.status, body=resp.body.decode("utf-8", errors="replace"))
