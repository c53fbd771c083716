"""Who is calling: the identity behind a request's access key, as the extensions need it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rootaudit.simulate.registry import REGISTRY, RootSession


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str
    principal_id: str
    access_key_id: str
    root_session: RootSession | None = None
    long_term_root_key: bool = False

    @property
    def is_root(self) -> bool:
        return self.root_session is not None or self.long_term_root_key

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1] if "/" in self.arn else self.account_id


def caller_of(response: Any) -> Caller:
    """The identity of the request `response` (a moto BaseResponse) is serving."""
    key = str(response.access_key)
    account = str(response.current_account)
    with REGISTRY.lock:
        session = REGISTRY.root_sessions.get(key)
        root_key_account = REGISTRY.root_keys.get(key)
    if session is not None:
        return Caller(session.account_id, f"arn:aws:iam::{session.account_id}:root", session.account_id,
                      key, root_session=session)
    if root_key_account is not None:
        return Caller(root_key_account, f"arn:aws:iam::{root_key_account}:root", root_key_account, key,
                      long_term_root_key=True)
    from moto.sts.models import sts_backends

    user_id, arn, acct = sts_backends[account][response.partition].get_caller_identity(key, response.region)
    return Caller(str(acct), str(arn), str(user_id), key)


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def user_agent(headers: Any) -> str:
    """The caller's User-Agent, as CloudTrail records it (empty when the request had none)."""
    try:
        return str(headers.get("User-Agent", "") or "")
    except AttributeError:
        return ""
