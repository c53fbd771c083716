"""Organizations extensions: the IAM service principal, planned account ids, and org lookups.

moto's allow-lists for trusted access and delegated administrators lack `iam.amazonaws.com` (and the
delegated-admin list lacks `account.amazonaws.com`); moto draws member account ids at random, while the
scenario needs them fixed by its seed, so `planned_account_ids` hands moto the ids to use.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

IAM_PRINCIPAL = "iam.amazonaws.com"
ACCOUNT_PRINCIPAL = "account.amazonaws.com"
_EXTRA_PRINCIPALS = (IAM_PRINCIPAL, ACCOUNT_PRINCIPAL)

_planned: deque[str] = deque()
_planned_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.organizations import models, utils

    for principal in _EXTRA_PRINCIPALS:
        if principal not in models.FakeServiceAccess.TRUSTED_SERVICES:
            models.FakeServiceAccess.TRUSTED_SERVICES.append(principal)
        if principal not in models.FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            models.FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(principal)

    random_account_id = utils.make_random_account_id

    def make_account_id() -> str:
        with _planned_lock:
            if _planned:
                return _planned.popleft()
        return random_account_id()

    utils.make_random_account_id = make_account_id
    _installed = True


@contextmanager
def planned_account_ids(ids: Iterable[str]) -> Iterator[None]:
    """Within the block, moto's CreateAccount takes its account ids from `ids`, in order."""
    with _planned_lock:
        _planned.clear()
        _planned.extend(ids)
    try:
        yield
    finally:
        with _planned_lock:
            _planned.clear()


@dataclass(frozen=True)
class OrgView:
    """The organization an account belongs to, as the extensions need it."""

    backend: Any  # the management account's OrganizationsBackend
    org: Any  # FakeOrganization

    @property
    def management_account(self) -> str:
        return str(self.org.master_account_id)

    @property
    def organization_id(self) -> str:
        return str(self.org.id)

    @property
    def all_features(self) -> bool:
        return str(self.org.feature_set) == "ALL"

    def trusted(self, principal: str) -> bool:
        return any(s["ServicePrincipal"] == principal for s in self.backend.services)

    def delegated_admins(self, principal: str) -> set[str]:
        return {a.account.id for a in self.backend.admins if principal in a.services}

    def member(self, account_id: str) -> Any | None:
        return next((a for a in self.backend.accounts if a.id == account_id), None)


def org_of(account_id: str, partition: str = "aws") -> OrgView | None:
    """The organization `account_id` manages or belongs to, or None."""
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account_id)
    if master is not None:
        backend = organizations_backends[master[0]][master[1]]
    elif account_id in organizations_backends:
        backend = organizations_backends[account_id][partition]
    else:
        return None
    if backend.org is None:
        return None
    return OrgView(backend, backend.org)
