"""A fast access-key -> account lookup for moto.

moto finds the account of every request by scanning every account's IAM backend in every partition
(creating the missing ones on the way): linear in the number of accounts, per request, which makes a
1,000-account organization crawl. This keeps an index: hits are checked against the backend they name,
misses (such as the plain `testing` key of the management caller) are remembered until a new key is made.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_known: dict[str, str] = {}
_unknown: set[str] = set()
_installed = False


def forget() -> None:
    """Drop the index (after a reset, or when keys were added behind moto's back)."""
    with _lock:
        _known.clear()
        _unknown.clear()


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam import models

    backends = models.iam_backends

    def get_account_id_from(access_key: str) -> str:
        with _lock:
            account = _known.get(access_key)
            if access_key in _unknown:
                return DEFAULT_ACCOUNT_ID
        if account is not None:
            regional = dict.get(backends, account)
            if regional is not None and any(access_key in b.access_keys for b in list(regional.values())):
                return account
        for account_id, regional in list(backends.items()):
            for backend in list(regional.values()):  # only partitions that exist: no creation
                if access_key in backend.access_keys:
                    with _lock:
                        _known[access_key] = account_id
                    return account_id
        with _lock:
            _unknown.add(access_key)
        return DEFAULT_ACCOUNT_ID

    def forgetting(method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            with _lock:
                _unknown.clear()
            return result

        return wrapper

    models.get_account_id_from = get_account_id_from
    models.IAMBackend.create_temp_access_key = forgetting(models.IAMBackend.create_temp_access_key)
    models.IAMBackend.create_access_key = forgetting(models.IAMBackend.create_access_key)
    _installed = True
