"""Root sessions against S3 and SQS: the unlock tasks allow only their listed actions.

S3UnlockBucketPolicy leaves s3:GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy and ListAllMyBuckets;
SQSUnlockQueuePolicy leaves sqs:GetQueueAttributes, SetQueueAttributes, ListQueues and GetQueueUrl. An
IAM task's session gets nothing here. Allowed calls reach moto's S3/SQS backends of the member account;
every call is recorded as a RootSessionAction in the region it was made in.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.s3.responses import S3Response
from moto.sqs.responses import SQSResponse

from rootaudit.simulate.ext_iam import check_session, record_session_action, session_denied
from rootaudit.simulate.identity import user_agent
from rootaudit.simulate.registry import REGISTRY, RootSession

_KEY = re.compile(r"Credential=([^/,\s]+)/")


def _session_for(request: Any) -> RootSession | None:
    match = _KEY.search(request.headers.get("Authorization", "") or "")
    if not match:
        return None
    with REGISTRY.lock:
        return REGISTRY.root_sessions.get(match.group(1))


def _s3_action(self: Any, request: Any, full_url: str, is_key: bool) -> tuple[str, str]:
    """(IAM action name, bucket) of an S3 request, as the task policies name them."""
    bucket = self.parse_bucket_name_from_url(request, full_url)
    args = set(getattr(request, "args", {}) or {})
    if not args and "?" in full_url:
        args = {part.split("=")[0] for part in full_url.split("?", 1)[1].split("&")}
    method = request.method
    if not bucket:
        return "ListAllMyBuckets", ""
    if not is_key and "policy" in args:
        return {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy",
                "DELETE": "DeleteBucketPolicy"}.get(method, f"{method}BucketPolicy"), bucket
    if is_key:
        return {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject",
                "DELETE": "DeleteObject"}.get(method, "PutObject"), bucket
    return {"GET": "ListBucket", "HEAD": "ListBucket", "PUT": "CreateBucket",
            "DELETE": "DeleteBucket"}.get(method, "PutBucketConfiguration"), bucket


def _gate_s3(original: Any, is_key: bool) -> Any:
    def handler(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        session = _session_for(request)
        if session is None:
            return original(self, request, full_url, headers)
        self.setup_class(request, full_url, headers)
        action, bucket = _s3_action(self, request, full_url, is_key)
        region = str(self.region or "us-east-1")
        params = {"bucketName": bucket} if bucket else {}
        try:
            check_session(session)
            if not session.task.allows("s3", action):
                raise session_denied(session, "s3", action, f"arn:aws:s3:::{bucket}" if bucket else "*")
        except ServiceException as exc:
            record_session_action(session, "s3.amazonaws.com", action, region, params, exc.code,
                                  user_agent(request.headers))
            return self._send_response(self.serialized(ActionResult(exc)))
        response = original(self, request, full_url, headers)
        status = response[0] if isinstance(response, tuple) else 200
        record_session_action(session, "s3.amazonaws.com", action, region, params,
                              "" if int(status) < 400 else f"HTTP{status}", user_agent(request.headers))
        return response

    return handler


def _gate_sqs(original: Any) -> Any:
    def call_action(self: Any) -> Any:
        with REGISTRY.lock:
            session = REGISTRY.root_sessions.get(str(self.access_key))
        if session is None:
            return original(self)
        action = str(self._get_action())
        params = {k: v for k, v in dict(getattr(self, "params", {}) or {}).items()
                  if k in ("QueueUrl", "QueueName")}
        try:
            check_session(session)
            if not session.task.allows("sqs", action):
                raise session_denied(session, "sqs", action, str(params.get("QueueUrl", "*")))
        except ServiceException as exc:
            record_session_action(session, "sqs.amazonaws.com", action, str(self.region), params, exc.code,
                                  user_agent(self.headers))
            status, headers, body = self.serialized(ActionResult(exc))
            return status, *self._enrich_response(headers, body)
        status, headers, body = original(self)
        record_session_action(session, "sqs.amazonaws.com", action, str(self.region), params,
                              "" if int(status) < 400 else f"HTTP{status}", user_agent(self.headers))
        return status, headers, body

    return call_action


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    s3: Any = S3Response
    s3.bucket_response = _gate_s3(s3.bucket_response, is_key=False)
    s3.key_response = _gate_s3(s3.key_response, is_key=True)
    sqs: Any = SQSResponse
    sqs.call_action = _gate_sqs(sqs.call_action)
    _installed = True
