"""Re-derive frames from the raw API responses kept in a snapshot, and name every row they do not support.

The collectors are fetch → keep raw → transform: the frames are pure functions of the raw responses,
which the snapshot keeps (data/raw/), and collection makes them from what it keeps. So a frame can be
derived again, without AWS, by the same transforms, and compared with the frame the pack holds: an
edited row (an account "clean" whose recorded ListAccessKeys answer holds an active key) no longer
follows from the responses, whatever hashes were recomputed around it.

Covered: every frame but `api_calls` (the call log, the provenance itself): `accounts`
(`accounts_from_raw`, then `population.reconcile`), `organization` (`organization_row`),
`root_credentials` and `root_credential_items` for every assessed account (`root_session_outcome`,
`report_outcome`), `monitoring` (`monitoring_rows` over the kept answers), and `privileged_sessions`,
`root_activity` and `sources` (`results.cloudtrail_frames` over what the CloudTrail collectors kept,
CloudTrail's digest validation re-performed). A row that claims an assessment and has no raw
responses behind it is named too: it rests on nothing the pack can show. A row that claims nothing (not
assessed, not read) is not held to a response. What cannot be re-derived (the log files themselves) is
said in docs/evidence-integrity.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rootaudit.collectors.report_method import report_outcome
from rootaudit.collectors.root_common import ASSESSED, ASSUME_ROOT_AUDIT, CREDENTIAL_REPORT, AccountOutcome
from rootaudit.collectors.root_session import root_session_outcome
from rootaudit.period import Period
from rootaudit.snapshot import Snapshot, frame_texts, make_frame

CREDENTIALS_CSV = "data/root_credentials.csv"
ITEMS_CSV = "data/root_credential_items.csv"
# The columns that state the root user's credentials (not when, or the free-text reason).
COMPARED = ("assessment", "method", "password_present", "access_keys_active", "access_keys_inactive",
            "signing_certificates_active", "signing_certificates_inactive", "mfa_devices", "mfa_kind",
            "password_last_used", "access_key_last_used")
ITEM_KEY = ("kind", "id")
ITEM_COMPARED = ("status", "created_at", "last_used_at", "last_used_service")
# The response each method cannot do without.
NEEDED = {ASSUME_ROOT_AUDIT: "list_access_keys", CREDENTIAL_REPORT: "get_credential_report"}


@dataclass(frozen=True)
class Unsupported:
    file: str  # the frame's CSV in the pack
    detail: str


_rows = frame_texts



def account_raw(raw: Mapping[str, Any], account_id: str) -> dict[str, Any]:
    prefix = f"root_credentials/{account_id}/"
    return {key[len(prefix):]: value for key, value in raw.items() if key.startswith(prefix)}


def _derive(account_id: str, method: str, raw: Mapping[str, Any], row: Mapping[str, str]) -> AccountOutcome:
    if method == ASSUME_ROOT_AUDIT:
        return root_session_outcome(account_id, raw, row.get("source_time", ""), row.get("collected_at"))
    return report_outcome(account_id, raw, "", row.get("collected_at"))


def rederive_root_credentials(snapshot: Snapshot) -> list[Unsupported]:
    """Every root_credentials / root_credential_items row of an assessed account that the raw responses
    do not give, by account and column."""
    problems: list[Unsupported] = []
    packed: dict[str, dict[str, str]] = {}
    derived_rows: list[dict[str, Any]] = []
    derived_items: list[dict[str, Any]] = []
    for row in _rows(snapshot["root_credentials"]):
        account, method = row["account_id"], row["method"]
        if row["assessment"] != ASSESSED:
            continue
        raw = account_raw(snapshot.raw, account)
        if method not in NEEDED:
            problems.append(Unsupported(CREDENTIALS_CSV, f"account {account}: assessed by method "
                                        f"{method!r}, which rootaudit does not have"))
            continue
        if NEEDED[method] not in raw:
            problems.append(Unsupported(CREDENTIALS_CSV, f"account {account}: assessed ({method}) but the "
                                        f"pack holds no {NEEDED[method]} response for it "
                                        f"({_where(account)}): the row rests on nothing the pack can show"))
            continue
        outcome = _derive(account, method, raw, row)
        packed[account] = row
        derived_rows.append(outcome.row)
        derived_items += outcome.items
    # One frame for every derived row (as collection made them), so types compare as the CSV writes them.
    derived = {r["account_id"]: r for r in _rows(make_frame("root_credentials", derived_rows))}
    for account, row in packed.items():
        again = derived[account]
        wrong = [f"{column} is {row[column] or 'empty'}, the responses give {again[column] or 'empty'}"
                 for column in COMPARED if row[column] != again[column]]
        if wrong:
            problems.append(Unsupported(CREDENTIALS_CSV, f"account {account}: " + "; ".join(wrong)
                                        + f" (re-derived from {_where(account)})"))
    have = _by_account(_rows(snapshot["root_credential_items"]))
    want = _by_account(_rows(make_frame("root_credential_items", derived_items)))
    for account in packed:
        problems += _compare_items(account, have.get(account, []), want.get(account, []), _where(account))
    return problems


def _where(account: str) -> str:
    return f"data/raw/root_credentials/{account}/"


def _by_account(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        out.setdefault(row["account_id"], []).append(row)
    return out


def _compare_items(account: str, packed: list[dict[str, str]], derived: list[dict[str, str]],
                   where: str) -> list[Unsupported]:
    have = {tuple(i[k] for k in ITEM_KEY): i for i in packed}
    want = {tuple(i[k] for k in ITEM_KEY): i for i in derived}
    problems = []
    for key in sorted(set(want) - set(have)):
        problems.append(Unsupported(ITEMS_CSV, f"account {account}: the responses hold {key[0]} {key[1]} "
                                    f"({want[key]['status']}), the frame does not ({where})"))
    for key in sorted(set(have) - set(want)):
        problems.append(Unsupported(ITEMS_CSV, f"account {account}: {key[0]} {key[1]} is in the frame, not "
                                    f"in the responses ({where})"))
    for key in sorted(set(have) & set(want)):
        wrong = [f"{c} is {have[key][c] or 'empty'}, the responses give {want[key][c] or 'empty'}"
                 for c in ITEM_COMPARED if have[key][c] != want[key][c]]
        if wrong:
            problems.append(Unsupported(ITEMS_CSV, f"account {account}: {key[0]} {key[1]}: "
                                        + "; ".join(wrong) + f" ({where})"))
    return problems


ORGANIZATION_CSV = "data/organization.csv"
ORGANIZATION_RAW = ("sts/get_caller_identity", "organizations/describe_organization",
                    "organizations/list_aws_service_access_for_organization",
                    "organizations/list_delegated_administrators", "iam/list_organizations_features")
ORGANIZATION_COMPARED = ("organization_id", "management_account_id", "feature_set", "iam_trusted_access",
                         "root_credentials_management", "root_sessions", "delegated_admins", "caller_arn",
                         "caller_account", "features_status")


def rederive_organization(snapshot: Snapshot) -> list[Unsupported]:
    """The `organization` row (trusted access, RootCredentialsManagement, RootSessions, the delegated
    administrators) from DescribeOrganization, ListAWSServiceAccessForOrganization,
    ListDelegatedAdministrators and ListOrganizationsFeatures as kept, with organization_row."""
    from rootaudit.collectors.organization import listed, organization_row

    rows = _rows(snapshot["organization"])
    if not rows:
        return []
    missing = [key for key in ORGANIZATION_RAW if key not in snapshot.raw]
    if missing:
        return [Unsupported(ORGANIZATION_CSV, f"the pack holds no {', '.join(missing)} response(s) "
                            "(data/raw/): the organization's settings rest on nothing the pack can show")]
    raw = snapshot.raw
    principals = listed(raw["organizations/list_aws_service_access_for_organization"],
                         "EnabledServicePrincipals")
    admins = listed(raw["organizations/list_delegated_administrators"], "DelegatedAdministrators")
    features = raw["iam/list_organizations_features"]
    row = organization_row(
        (raw["organizations/describe_organization"] or {}).get("Organization") or {},
        raw["sts/get_caller_identity"] or {},
        None if principals is None else [str(p.get("ServicePrincipal")) for p in principals],
        None if admins is None else {str(a.get("Id")) for a in admins},
        None if isinstance(features, Mapping) and "Error" in features else features, [])
    [derived] = _rows(make_frame("organization", [row]))
    [packed] = rows[:1]
    wrong = [f"{c} is {packed[c] or 'empty'}, the responses give {derived[c] or 'empty'}"
             for c in ORGANIZATION_COMPARED if packed[c] != derived[c]]
    extra = [] if len(rows) == 1 else [f"{len(rows)} rows where the responses give one"]
    return [Unsupported(ORGANIZATION_CSV, "; ".join(wrong + extra) + " (re-derived from data/raw/)")
            ] if wrong or extra else []


def compare_frame(name: str, packed: Any, derived: Any, key: tuple[str, ...],
                  where: str) -> list[Unsupported]:
    """Every row of the frame `name` the derived frame does not have alike (by `key`, every column),
    and every derived row the frame lacks; `where` names the raw responses derived from."""
    file = f"data/{name}.csv"
    have: dict[tuple[str, ...], list[dict[str, str]]] = {}
    want: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for rows, into in ((_rows(packed), have), (_rows(derived), want)):
        for row in rows:
            into.setdefault(tuple(row[k] for k in key), []).append(row)
    problems: list[Unsupported] = []

    def label(k: tuple[str, ...]) -> str:
        return ", ".join(f"{c} {v or '(empty)'}" for c, v in zip(key, k, strict=True))

    for k in sorted(set(have) | set(want)):
        a, b = have.get(k, []), want.get(k, [])
        if len(a) != len(b):
            status = sorted({r["status"] for r in b if r.get("status")})
            given = f"{len(b)}" + (f" (status {', '.join(status)})" if status else "")
            problems.append(Unsupported(file, f"row {label(k)}: {len(a)} in the frame, the responses give "
                                        f"{given} ({where})"))
            continue
        for x, y in zip(a, b, strict=True):
            wrong = [f"{c} is {x[c] or 'empty'}, the responses give {y[c] or 'empty'}"
                     for c in x if c not in key and x[c] != y.get(c, "")]
            if wrong:
                problems.append(Unsupported(file, f"row {label(k)}: " + "; ".join(wrong) + f" ({where})"))
    return problems


def snapshot_period(snapshot: Snapshot) -> Period:
    from rootaudit.collectors.cloudtrail.classify import parse_time

    period = snapshot.meta.get("period") or {}
    start, end = parse_time(period.get("start")), parse_time(period.get("end"))
    if start is None or end is None:
        raise ValueError("snapshot.json records no period")
    return Period(str(period.get("label") or ""), start, end)


CLOUDTRAIL_KEYS = {"privileged_sessions": ("event_id",), "root_activity": ("event_id",),
                   "sources": ("source", "account_id", "region", "item")}
# A sources row that says what was not read claims nothing that needs a response behind it.
_NO_CLAIM = {"failed", "not_covered", "skipped"}


def rederive_cloudtrail(snapshot: Snapshot) -> list[Unsupported]:
    """The ledger, root activity and sources from what the CloudTrail collectors kept raw
    (`cloudtrail/kept.py`), through `results.cloudtrail_frames`, CloudTrail's validation of the file
    sources' digests included."""
    from rootaudit.collectors.cloudtrail.kept import STREAMS, KeptError
    from rootaudit.collectors.cloudtrail.results import cloudtrail_frames

    where = "data/raw/cloudtrail/"
    try:
        derived, _ = cloudtrail_frames(snapshot.raw, snapshot_period(snapshot))
    except KeptError as exc:
        claims = {name: [r for r in _rows(snapshot[name])
                         if name != "sources" or r["status"] not in _NO_CLAIM] for name in CLOUDTRAIL_KEYS}
        return [Unsupported(f"data/{name}.csv", f"{len(rows)} row(s) and {exc}: they rest on nothing the "
                            "pack can show") for name, rows in claims.items() if rows]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [Unsupported(f"data/raw/{STREAMS}.json.gz", "not the form rootaudit keeps "
                            f"({type(exc).__name__}: {exc}): the CloudTrail frames cannot be derived")]
    problems: list[Unsupported] = []
    for name, key in CLOUDTRAIL_KEYS.items():
        problems += compare_frame(name, snapshot[name], derived[name], key, where)
    return problems


def rederive_monitoring(snapshot: Snapshot) -> list[Unsupported]:
    """The `monitoring` rows (trails, metric filter, alarm, subscribers, EventBridge rules) from the
    kept responses, through `monitoring_rows` as collection read them."""
    from rootaudit.collectors.monitoring import MissingResponse, rows_from_raw

    try:
        rows = rows_from_raw(snapshot.raw)
    except MissingResponse as exc:
        claims = [r for r in _rows(snapshot["monitoring"]) if r["status"] == ASSESSED]
        return [Unsupported("data/monitoring.csv", f"{len(claims)} assessed row(s) and the pack holds no "
                            f"{exc.args[0]} response (data/raw/): they rest on nothing the pack can show")
                ] if claims else []
    return compare_frame("monitoring", snapshot["monitoring"], make_frame("monitoring", rows),
                         ("account_id", "region", "trail_arn"), "data/raw/monitoring/, data/raw/cloudtrail/")


def rederive_accounts(snapshot: Snapshot) -> list[Unsupported]:
    """The `accounts` rows (population, OU paths, delegated administrators, security contacts) from the
    kept Organizations and Account responses with `accounts_from_raw`, reconciled as collection does
    with the accounts the other frames name (`population.reconcile`)."""
    from rootaudit import population
    from rootaudit.collectors.organization import accounts_from_raw

    packed = snapshot["accounts"]
    try:
        rows = accounts_from_raw(snapshot.raw)
    except KeyError as exc:
        missing = f"{len(packed)} row(s) and the pack holds no {exc.args[0]} response (data/raw/)"
        return [Unsupported("data/accounts.csv", f"{missing}: they rest on nothing the pack can show")
                ] if len(packed) else []
    organization = _rows(snapshot["organization"])
    management = organization[0]["management_account_id"] if organization else ""
    listed = make_frame("accounts", rows).to_dict("records")
    again = population.reconcile(listed, population.named_in_frames(snapshot.frames), management)
    return compare_frame("accounts", packed, make_frame("accounts", again), ("account_id",),
                         "data/raw/organizations/, data/raw/account/")


# The frames verify re-derives; the others are named as not re-derived (VerifyReport.notes).
REDERIVED = ("accounts", "organization", "root_credentials", "root_credential_items", *CLOUDTRAIL_KEYS,
             "monitoring")


def rederive(snapshot: Snapshot) -> list[Unsupported]:
    """Every frame rootaudit re-derives, checked against the raw responses."""
    checks = (rederive_accounts, rederive_organization, rederive_root_credentials, rederive_cloudtrail,
              rederive_monitoring)
    return [problem for check in checks for problem in check(snapshot)]
