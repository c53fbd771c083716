"""The account population: every account that any listing names, reconciled into one list.

The collectors see accounts through several listings; each is a vocabulary word of the `accounts`
frame's `listed_by` column (sorted, comma separated):

    list_accounts              organizations:ListAccounts                       names every account
    ou_walk                    organizations:ListAccountsForParent, over the OU tree   names every account
    list_parents               organizations:ListParents, for a ListAccounts account the walk did not find
    delegated_administrators   organizations:ListDelegatedAdministrators (iam.amazonaws.com)
    management_account         the MasterAccountId of organizations:DescribeOrganization
    cloudtrail                 CloudTrail: a recipient account of the trail's records or files
    root_credentials           a row of the `root_credentials` frame

An account is reconciled when ListAccounts names it and the OU tree places it (the walk found it, or
ListParents did). Any other account a listing names is still in the population, never dropped: it is
not assessed, and its `population_reason` says which listing named it and which did not. A listing that
omits an account without an error (a partial answer that looks whole) therefore shows up as a
disagreement instead of a smaller organization.

Pure: rows in, rows out. The collect stage uses it to build the `accounts` frame; the controls stage
uses it again on whatever snapshot it is given, so an account a frame names and `accounts` lacks (a
hand-edited or older snapshot) is added rather than ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from rootaudit.snapshot import make_frame

LIST_ACCOUNTS = "list_accounts"
OU_WALK = "ou_walk"
LIST_PARENTS = "list_parents"
DELEGATED_ADMINISTRATORS = "delegated_administrators"
MANAGEMENT_ACCOUNT = "management_account"
CLOUDTRAIL = "cloudtrail"
ROOT_CREDENTIALS = "root_credentials"

LISTINGS: dict[str, str] = {
    LIST_ACCOUNTS: "ListAccounts",
    OU_WALK: "the OU walk (ListAccountsForParent)",
    LIST_PARENTS: "ListParents",
    DELEGATED_ADMINISTRATORS: "ListDelegatedAdministrators",
    MANAGEMENT_ACCOUNT: "DescribeOrganization (the management account)",
    CLOUDTRAIL: "CloudTrail (a recipient account of the trail's records or log files)",
    ROOT_CREDENTIALS: "the root-credential results",
}
OU_TREE = frozenset({OU_WALK, LIST_PARENTS})  # either places the account in the organization's tree
UNKNOWN_STATE = "UNKNOWN"  # a listing without State or Status


def listed_by_of(value: Any) -> set[str]:
    """The `listed_by` cell as a set of listing names (NA: named by none that was recorded)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return set()
    return {part.strip() for part in str(value).split(",") if part.strip()}


def listed_by_text(listings: Iterable[str]) -> str:
    return ",".join(sorted(set(listings)))


def population_reason(listings: Iterable[str], ou_tree_read: bool = True) -> str | None:
    """Why the listings disagree about an account, or None when they agree (it is reconciled).

    `ou_tree_read` False: the OU tree could not be read for this account (the walk failed in part and
    ListParents failed for it too); its silence is then a gap already reported, not a disagreement."""
    named = set(listings)
    missing = []
    if LIST_ACCOUNTS not in named:
        missing.append(LISTINGS[LIST_ACCOUNTS])
    if not named & OU_TREE and (ou_tree_read or missing):
        missing.append(f"{LISTINGS[OU_WALK]} or {LISTINGS[LIST_PARENTS]}")
    if not missing:
        return None
    by = "; ".join(LISTINGS.get(n, n) for n in sorted(named)) or "no recorded listing"
    return (f"named by {by}, but missing from {' and from '.join(missing)}: the organization's account "
            "listings disagree, so this account's root credentials are not counted as assessed; re-run "
            "the collection, and if it persists check the account in AWS Organizations")


def reconcile(rows: Iterable[Mapping[str, Any]], named: Mapping[str, Iterable[str]],
              management_id: str = "", ou_tree_unread: Iterable[str] = ()) -> list[dict[str, Any]]:
    """`accounts` rows with every account of `named` (listing -> account ids) added or marked.

    An account already in `rows` gains the listings that name it; one that is not gets a row of its
    own (state UNKNOWN). A row that has no `population_reason` yet is judged from its `listed_by`
    (`ou_tree_unread`: the accounts the OU tree could not be read for). A row judged before (one of a
    snapshot's `accounts` frame) keeps its judgement, except that a row ListAccounts did not name is a
    disagreement whatever it says: that is the omission a smaller organization would hide.
    """
    unread = set(ou_tree_unread)
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out[str(row["account_id"])] = dict(row)
    for listing, ids in named.items():
        for account_id in ids:
            account_id = str(account_id)
            if not account_id:
                continue
            row = out.get(account_id)
            if row is None:
                row = out[account_id] = {"account_id": account_id, "state": UNKNOWN_STATE,
                                         "is_management": account_id == management_id}
            row["listed_by"] = listed_by_text(listed_by_of(row.get("listed_by")) | {listing})
    for account_id, row in out.items():
        listings = listed_by_of(row.get("listed_by"))
        judged = row.get("population_reason", _UNJUDGED)
        if judged is _UNJUDGED:
            row["population_reason"] = population_reason(listings, account_id not in unread)
        elif not isinstance(judged, str) or not judged:
            row["population_reason"] = population_reason(listings, ou_tree_read=False)
    return [out[a] for a in sorted(out)]


_UNJUDGED = object()


def _ids(frame: pd.DataFrame, column: str) -> set[str]:
    if column not in frame or not len(frame):
        return set()
    return {str(v) for v in frame[column].dropna() if str(v).strip()}


def _account_ids(values: Iterable[str]) -> set[str]:
    """Only 12-digit account ids: `*` and blank stand for no particular account."""
    return {v for v in values if len(v) == 12 and v.isdigit()}


def named_in_frames(frames: Mapping[str, pd.DataFrame]) -> dict[str, set[str]]:
    """The accounts the frames other than `accounts` name, by listing.

    CloudTrail names the recipient accounts of root activity, the targets of AssumeRoot sessions that
    were issued (a refused call named an account but proves nothing about it), and the accounts of
    source rows (a trail's per-account log-file prefixes, including ones skipped as not listed)."""
    def frame(name: str) -> pd.DataFrame:
        return frames[name] if name in frames else make_frame(name)

    named: dict[str, set[str]] = {ROOT_CREDENTIALS: _ids(frame("root_credentials"), "account_id")}
    sessions = frame("privileged_sessions")
    issued = sessions[sessions["error_code"].isna()] if len(sessions) else sessions
    named[CLOUDTRAIL] = _account_ids(_ids(frame("root_activity"), "account_id")
                                     | _ids(issued, "target_account")
                                     | _ids(frame("sources"), "account_id"))
    organization = frame("organization")
    if len(organization):
        org = organization.iloc[0]
        named[MANAGEMENT_ACCOUNT] = _account_ids(_ids(organization, "management_account_id"))
        admins = org.get("delegated_admins")
        named[DELEGATED_ADMINISTRATORS] = _account_ids(
            listed_by_of(admins) if isinstance(admins, str) else set())
    return named


def counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """How many accounts the population holds, how many each listing named, how many disagree."""
    rows = list(rows)
    by_listing = {listing: sum(1 for r in rows if listing in listed_by_of(r.get("listed_by")))
                  for listing in LISTINGS}
    disagreements = sorted(str(r["account_id"]) for r in rows if r.get("population_reason"))
    return {"accounts": len(rows), "listed_by": by_listing, "reconciled": len(rows) - len(disagreements),
            "disagreements": disagreements}
